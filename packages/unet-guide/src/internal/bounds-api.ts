// The one module of unet-guide that reaches per-location margin bounds. Until @patchcert/bounds
// exports `locationMargins`, a naive full-box IBP (exact, slow: every location materialises a
// whole image box) stands in here so the guided strategy, its tests and its benchmark run.
// Swap the body for a re-export once bounds lands; nothing else changes.
import { tf, PatchcertError, normalizeImages } from '@patchcert/backend';
import { applyLayer, type SequentialModel } from '@patchcert/models';

/**
 * The location grid of a patch threat on an h×w image. Accepts bounds' threat objects
 * (`locations(h, w)` / `locationOrigin(i, h, w)`) and the `{ kind: 'patch', height, width }`
 * records trainers passes in its context until then.
 */
export type GridThreat =
  | { locations(h: number, w: number): number; locationOrigin(i: number, h: number, w: number): readonly [number, number] | number[] }
  | { kind: 'patch'; height: number; width: number };

/** `[rows, cols]` of feasible top-left corners, and the patch's bounding `[height, width]`. */
export function threatGrid(threat: GridThreat, h: number, w: number, fn: string): { grid: [number, number]; patch: [number, number] } {
  if ('locations' in threat && typeof threat.locations === 'function') {
    const count = threat.locations(h, w);
    const last = threat.locationOrigin(count - 1, h, w);
    const rows = Number(last[0]) + 1;
    const cols = Number(last[1]) + 1;
    if (rows * cols !== count) {
      throw new PatchcertError('INVALID_ARGUMENT', `Error in ${fn}: the threat's locations must form a ${rows}×${cols} grid, but it has ${count}.`);
    }
    return { grid: [rows, cols], patch: [h - rows + 1, w - cols + 1] };
  }
  if ('kind' in threat && threat.kind === 'patch') {
    return { grid: [h - threat.height + 1, w - threat.width + 1], patch: [threat.height, threat.width] };
  }
  throw new PatchcertError('INVALID_ARGUMENT', `Error in ${fn}: threat must be a patch threat (square, rectangle or shape), but got ${JSON.stringify(threat)}.`);
}

/** Per-location margin lower bounds, as bounds' `locationMargins`. */
export type LocationMarginsFn = (
  model: SequentialModel,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  threat: never,
  options: { locations: Int32Array; eps: number },
) => tf.Tensor3D;

/**
 * Margin lower bounds `[B, L, classes]` (0 at y) of the patch at `locations[n·L + q]` of image
 * n, by IBP over the full input box; differentiable w.r.t. the model's variables.
 */
export function naiveLocationMargins(
  model: SequentialModel,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  threat: GridThreat,
  options: { locations: Int32Array; eps: number },
): tf.Tensor3D {
  return tf.tidy(() => {
    const [b, h, w, c] = images.shape;
    const { grid, patch } = threatGrid(threat, h, w, 'locationMargins');
    const L = options.locations.length / b;
    const rows = b * L;
    const mask = new Float32Array(rows * h * w);
    for (let r = 0; r < rows; r++) {
      const loc = options.locations[r]!;
      const r0 = Math.floor(loc / grid[1]);
      const c0 = loc % grid[1];
      for (let i = r0; i < r0 + patch[0]; i++) for (let j = c0; j < c0 + patch[1]; j++) mask[r * h * w + i * w + j] = 1;
    }
    const m = tf.tensor4d(mask, [rows, h, w, 1]);
    const x = tf.reshape(tf.tile(tf.expandDims(images, 1), [1, L, 1, 1, 1]), [rows, h, w, c]);
    const lo = tf.add(x, tf.mul(m, tf.sub(tf.maximum(tf.sub(x, options.eps), 0), x))) as tf.Tensor4D;
    const hi = tf.add(x, tf.mul(m, tf.sub(tf.minimum(tf.add(x, options.eps), 1), x))) as tf.Tensor4D;
    const norm = model.metadata.normalization;
    const nl = normalizeImages(lo, norm);
    const nh = normalizeImages(hi, norm);
    let mu: tf.Tensor = tf.div(tf.add(nh, nl), 2);
    let rad: tf.Tensor = tf.div(tf.sub(nh, nl), 2);
    const last = model.layers.length - 1;
    for (let i = 0; i < last; i++) {
      const layer = model.layers[i]!;
      const wts = model.weights[i] ?? null;
      if (layer.type === 'dense' || layer.type === 'conv2d') {
        const center = applyLayer(layer, wts, mu);
        rad = applyLayer(layer, { kernel: tf.abs(wts!.kernel), bias: tf.zerosLike(wts!.bias) } as never, rad);
        mu = center;
      } else if (layer.type === 'relu') {
        const l = tf.relu(tf.sub(mu, rad));
        const u = tf.relu(tf.add(mu, rad));
        mu = tf.div(tf.add(u, l), 2);
        rad = tf.div(tf.sub(u, l), 2);
      } else {
        mu = applyLayer(layer, null, mu);
        rad = applyLayer(layer, null, rad);
      }
    }
    const lw = model.weights[last]!;
    const kernel = lw.kernel as tf.Tensor2D;
    const classes = kernel.shape[1];
    const rowLabels = tf.reshape(tf.tile(tf.expandDims(tf.cast(labels, 'int32'), 1), [1, L]), [rows]) as tf.Tensor1D;
    const onehot = tf.oneHot(rowLabels, classes);
    const center = tf.add(tf.matMul(mu as tf.Tensor2D, kernel), lw.bias);
    const cy = tf.sum(tf.mul(center, onehot), 1, true);
    // The elided last layer: rows e_y − e_j of C merged into W, so the radius uses |W_y − W_j|.
    let radius: tf.Tensor = tf.zeros([rows, classes]);
    for (let k = 0; k < classes; k++) {
      const diff = tf.abs(tf.sub(tf.slice(kernel, [0, k], [-1, 1]), kernel));
      radius = tf.add(radius, tf.mul(tf.slice(onehot, [0, k], [-1, 1]), tf.matMul(rad as tf.Tensor2D, diff)));
    }
    return tf.reshape(tf.sub(tf.sub(cy, center), radius), [b, L, classes]) as tf.Tensor3D;
  });
}
