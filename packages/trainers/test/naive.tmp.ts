// The one module of trainers that reaches @patchcert/bounds. Until bounds exports its threat
// models, worstMargins and certify, a naive full-box IBP stands in here (exact, slow), so the
// training loop, checkpoints and CLI can be built and tested in parallel. Swap the bodies for
// re-exports once bounds lands; nothing else in trainers changes.
import { tf, PatchcertError, normalizeImages } from '@patchcert/backend';
import { applyLayer, type SequentialModel } from '@patchcert/models';
import type { ThreatConfig } from '../src/train-config.js';

/** A patch threat (square or rectangle) or a sparse (k pixels) threat. */
export type Threat =
  | { kind: 'patch'; height: number; width: number }
  | { kind: 'sparse'; k: number; tight: boolean };

/** Builds the threat a config describes. */
export function makeThreat(cfg: ThreatConfig): Threat {
  if (cfg.type === 'patch') return { kind: 'patch', height: cfg.size, width: cfg.size };
  if (cfg.type === 'rectangle') return { kind: 'patch', height: cfg.height, width: cfg.width };
  return { kind: 'sparse', k: cfg.k, tight: cfg.tight ?? false };
}

/** Number of patch locations of `threat` on an h×w image (1 for sparse). */
export function threatLocationCount(threat: Threat, h: number, w: number): number {
  if (threat.kind === 'sparse') return 1;
  return (h - threat.height + 1) * (w - threat.width + 1);
}

/** Input boxes (pixel space) for image n of `images` at `locs[n*k + s]`, `[B*k, H, W, C]`. */
function patchBoxes(images: tf.Tensor4D, threat: Extract<Threat, { kind: 'patch' }>, locs: Int32Array, k: number, eps: number): { lower: tf.Tensor4D; upper: tf.Tensor4D } {
  return tf.tidy(() => {
    const [b, h, w, c] = images.shape;
    const cols = w - threat.width + 1;
    const rows = b * k;
    const mask = new Float32Array(rows * h * w);
    for (let r = 0; r < rows; r++) {
      const loc = locs[r]!;
      const r0 = Math.floor(loc / cols);
      const c0 = loc % cols;
      for (let i = r0; i < r0 + threat.height; i++) for (let j = c0; j < c0 + threat.width; j++) mask[r * h * w + i * w + j] = 1;
    }
    const m = tf.tensor4d(mask, [rows, h, w, 1]);
    const rep = k === 1 ? images : tf.reshape(tf.tile(tf.expandDims(images, 1), [1, k, 1, 1, 1]), [rows, h, w, c]);
    const lo = tf.add(rep, tf.mul(m, tf.sub(tf.maximum(tf.sub(rep, eps), 0), rep))) as tf.Tensor4D;
    const hi = tf.add(rep, tf.mul(m, tf.sub(tf.minimum(tf.add(rep, eps), 1), rep))) as tf.Tensor4D;
    return { lower: lo, upper: hi };
  });
}

/** IBP of a normalized box through every layer but the last, then the elided margin layer. */
function marginBounds(model: SequentialModel, lower: tf.Tensor, upper: tf.Tensor, labels: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    let mu: tf.Tensor = tf.div(tf.add(upper, lower), 2);
    let r: tf.Tensor = tf.div(tf.sub(upper, lower), 2);
    const last = model.layers.length - 1;
    for (let i = 0; i < last; i++) {
      const layer = model.layers[i]!;
      const wts = model.weights[i] ?? null;
      if (layer.type === 'dense' || layer.type === 'conv2d') {
        const m2 = applyLayer(layer, wts, mu);
        const absW = { kernel: tf.abs(wts!.kernel), bias: tf.zerosLike(wts!.bias) } as unknown as typeof wts;
        r = applyLayer(layer, absW, r);
        mu = m2;
      } else if (layer.type === 'relu') {
        const lo = tf.relu(tf.sub(mu, r));
        const hi = tf.relu(tf.add(mu, r));
        mu = tf.div(tf.add(hi, lo), 2);
        r = tf.div(tf.sub(hi, lo), 2);
      } else {
        mu = applyLayer(layer, null, mu);
        r = applyLayer(layer, null, r);
      }
    }
    const lw = model.weights[last]!;
    const kernel = lw.kernel as tf.Tensor2D; // [in, classes]
    const classes = kernel.shape[1];
    const center = tf.add(tf.matMul(mu as tf.Tensor2D, kernel), lw.bias); // [N, classes]
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), classes); // [N, classes]
    const cy = tf.sum(tf.mul(center, onehot), 1, true);
    let radius: tf.Tensor = tf.zerosLike(center);
    for (let c = 0; c < classes; c++) {
      const diff = tf.abs(tf.sub(tf.slice(kernel, [0, c], [-1, 1]), kernel));
      radius = tf.add(radius, tf.mul(tf.slice(onehot, [0, c], [-1, 1]), tf.matMul(r as tf.Tensor2D, diff)));
    }
    return tf.sub(tf.sub(cy, center), radius) as tf.Tensor2D;
  });
}

/**
 * Worst-case margin lower bounds `[B, classes]` (0 at y), min over the given locations
 * (`'all'` or `[B*k]` row-major location indices), differentiable w.r.t. the model variables.
 */
export function worstMargins(
  model: SequentialModel,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  threat: Threat,
  opts: { locations?: 'all' | Int32Array; eps: number },
): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, h, w] = images.shape;
    if (threat.kind === 'sparse') {
      throw new PatchcertError('UNSUPPORTED_LAYER', 'Error in worstMargins: the sparse threat must come from @patchcert/bounds, but it does not export it yet.');
    }
    const total = threatLocationCount(threat, h, w);
    let locs: Int32Array;
    let k: number;
    if (opts.locations === undefined || opts.locations === 'all') {
      k = total;
      locs = new Int32Array(b * k);
      for (let n = 0; n < b; n++) for (let q = 0; q < k; q++) locs[n * k + q] = q;
    } else {
      locs = opts.locations;
      k = locs.length / b;
    }
    const { lower, upper } = patchBoxes(images, threat, locs, k, opts.eps);
    const norm = model.metadata.normalization;
    const rowsLabels = k === 1 ? labels : (tf.reshape(tf.tile(tf.expandDims(labels, 1), [1, k]), [b * k]) as tf.Tensor1D);
    const m = marginBounds(model, normalizeImages(lower, norm), normalizeImages(upper, norm), rowsLabels);
    return tf.min(tf.reshape(m, [b, k, -1]), 1) as tf.Tensor2D;
  });
}

/** Per-image certified and correct flags under `threat` at eps 1, every location. */
export async function certifyImages(
  model: SequentialModel,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  threat: Threat,
): Promise<{ certified: Uint8Array; correct: Uint8Array }> {
  const b = images.shape[0];
  const [h, w] = [images.shape[1], images.shape[2]];
  const L = threatLocationCount(threat, h, w);
  const per = Math.max(1, Math.floor(4096 / L));
  const certified = new Uint8Array(b);
  const correct = new Uint8Array(b);
  const pred = tf.tidy(() => tf.argMax(model.predict(images), 1));
  const predArr = await pred.data();
  const lab = await labels.data();
  pred.dispose();
  for (let s = 0; s < b; s += per) {
    const n = Math.min(per, b - s);
    const m = tf.tidy(() => {
      const x = tf.slice(images, [s, 0, 0, 0], [n, -1, -1, -1]);
      const y = tf.slice(labels, [s], [n]);
      return tf.min(worstMargins(model, x, y, threat, { locations: 'all', eps: 1 }), 1);
    });
    const v = await m.data();
    m.dispose();
    for (let i = 0; i < n; i++) certified[s + i] = v[i]! >= 0 ? 1 : 0;
  }
  for (let i = 0; i < b; i++) correct[i] = predArr[i] === lab[i] ? 1 : 0;
  for (let i = 0; i < b; i++) if (!correct[i]) certified[i] = 0;
  return { certified, correct };
}
