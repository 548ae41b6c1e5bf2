import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { ThreatModel } from './threat-model.js';
import type { LabelsLike } from './internal/labels.js';
import { createPlan, type BoundMethod } from './internal/create-plan.js';
import { checkArgs, checkChunk, disposeBatch, locationsPerPass, prepareBatch, sharedOrigins } from './internal/batch.js';

/** Options of {@link certify}. */
export interface CertifyOptions {
  /**
   * Schedule value of the box: patch pixels range over `[max(0,x−eps), min(1,x+eps)]`.
   * @defaultValue 1 (the whole [0,1] range, as the paper certifies)
   */
  eps?: number;
  /**
   * Also return every image's per-location margin map.
   * @defaultValue false
   */
  marginMap?: boolean;
  /**
   * `'fast'` (exact local computation) or `'naive'` (every location's full box through the
   * network). Same verdicts to float tolerance.
   * @defaultValue 'fast'
   */
  method?: BoundMethod;
  /** Bound rows (image × location pairs) per pass. @defaultValue automatic (~24 MB per tensor) */
  chunk?: number;
  /** Images per batch (boxes and clean activations are prepared per batch). @defaultValue 32 */
  imageBatch?: number;
}

/** What {@link certify} returns, one entry per image. */
export interface CertifyResult {
  /** 1 iff every margin lower bound is ≥ 0 at every location (an exact 0 counts). */
  certified: Uint8Array;
  /** 1 iff the clean image is classified correctly (argmax of the logits = label). */
  correct: Uint8Array;
  /** The smallest margin lower bound over locations and classes j ≠ y. */
  worstMargin: Float32Array;
  /** The location index of `worstMargin` (0 for the sparse threat). */
  worstLocation: Int32Array;
  /** The class j of `worstMargin`. */
  worstClass: Int32Array;
  /**
   * Per image, `[locations · classes]` margin lower bounds, location-major (row l holds the
   * classes' bounds at location l; the y entry is 0). Only with `marginMap: true`.
   */
  marginMap?: Float32Array[];
  /** Number of locations each image was checked at. */
  locations: number;
}

/**
 * Certifies images against a threat model with interval bound propagation: an image is
 * certified iff the lower bound of every margin z_y − z_j (j ≠ y) is ≥ 0 at every location of
 * the threat (corners included). Runs without gradients, in `tf.tidy`, in chunks of locations
 * folded into a running minimum, so memory stays flat as images or location counts grow.
 *
 * @param model - the network (last layer dense).
 * @param images - pixel images `[batch, height, width, channels]` in [0,1].
 * @param labels - true classes `[batch]`.
 * @param threat - `squarePatch(n)`, `rectanglePatch(h, w)`, `shapePatch(mask)`,
 *   `namedShape(name, pixels)` or `sparsePixels(k)`.
 * @returns per-image verdicts and worst cases.
 * @throws PatchcertError `SHAPE_MISMATCH` (images/labels), `INVALID_ARGUMENT` (patch larger than
 *   the image, label out of range), `INVALID_OPTION` (eps, method, chunk, imageBatch).
 * @example
 * const res = certify(model, images, labels, squarePatch(2));
 * const certifiedAccuracy = res.certified.reduce((a, b) => a + b, 0) / res.certified.length;
 */
export function certify(model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: ThreatModel, options: CertifyOptions = {}): CertifyResult {
  const eps = options.eps ?? 1;
  const method = options.method ?? 'fast';
  const args = checkArgs('certify', model, images, labels, threat, eps, method);
  checkChunk(options.chunk, 'certify');
  const imageBatch = options.imageBatch ?? 32;
  assert(Number.isInteger(imageBatch) && imageBatch >= 1, () => `Error in certify: imageBatch must be a positive integer, but got ${imageBatch}.`, 'INVALID_OPTION');
  const [n, h, w, ch] = images.shape;
  const classes = model.numClasses;
  const total = threat.kind === 'sparse' ? 1 : threat.locations(h, w);
  const res: CertifyResult = {
    certified: new Uint8Array(n),
    correct: new Uint8Array(n),
    worstMargin: new Float32Array(n).fill(Infinity),
    worstLocation: new Int32Array(n),
    worstClass: new Int32Array(n),
    locations: total,
  };
  if (options.marginMap) res.marginMap = Array.from({ length: n }, () => new Float32Array(total * classes));

  const nan = new Uint8Array(n);
  // Images go through in label order so each batch holds long runs of one label (the elided
  // layer then needs one 10-column matmul per run); results are written back by index.
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => args.labels[a]! - args.labels[b]! || a - b);
  const px = images.dataSync() as Float32Array;
  const size = h * w * ch;
  for (let b0 = 0; b0 < n; b0 += imageBatch) {
    const bn = Math.min(imageBatch, n - b0);
    const idx = order.subarray(b0, b0 + bn);
    const y = Int32Array.from(idx, (i) => args.labels[i]!);
    tf.tidy(() => {
      const batchPx = new Float32Array(bn * size);
      for (let b = 0; b < bn; b++) batchPx.set(px.subarray(idx[b]! * size, (idx[b]! + 1) * size), b * size);
      const pixels = tf.tensor4d(batchPx, [bn, h, w, ch]);
      const prep = { ...prepareBatch(model, pixels, y, eps), hostLabels: y };
      const pred = tf.argMax(model.forward(prep.boxes.clean), 1).dataSync();
      for (let b = 0; b < bn; b++) res.correct[idx[b]!] = pred[b] === y[b] ? 1 : 0;
      const plan = createPlan(prep, threat, args.method, false);
      try {
        const step = threat.kind === 'sparse' ? 1 : locationsPerPass(plan, bn, total, options.chunk);
        for (let l0 = 0; l0 < total; l0 += step) {
          const l1 = Math.min(total, l0 + step);
          const k = l1 - l0;
          const m = plan.margins(sharedOrigins(threat, h, w, bn, l0, l1));
          const data = m.dataSync();
          m.dispose();
          for (let b = 0; b < bn; b++) {
            const img = idx[b]!;
            const yb = y[b]!;
            const map = res.marginMap?.[img];
            for (let l = 0; l < k; l++) {
              const off = (b * k + l) * classes;
              if (map) map.set(data.subarray(off, off + classes), (l0 + l) * classes);
              for (let j = 0; j < classes; j++) {
                if (j === yb) continue;
                const v = data[off + j]!;
                // A NaN bound proves nothing: it makes the image uncertified.
                if (Number.isNaN(v)) nan[img] = 1;
                if (v < res.worstMargin[img]!) {
                  res.worstMargin[img] = v;
                  res.worstLocation[img] = l0 + l;
                  res.worstClass[img] = j;
                }
              }
            }
          }
        }
      } finally {
        plan.dispose();
        disposeBatch(prep);
      }
    });
  }
  for (let i = 0; i < n; i++) {
    if (nan[i]) res.worstMargin[i] = NaN;
    res.certified[i] = res.worstMargin[i]! >= 0 ? 1 : 0;
  }
  return res;
}
