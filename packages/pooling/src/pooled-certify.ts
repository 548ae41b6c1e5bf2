import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { pooledGrid, pooledLocationMargins, type BoundMethod, type LabelsLike, type PatchThreat } from '@patchcert/bounds';
import { parsePoolSpec, type PoolSpecLike } from './pool-spec.js';

/** Options of {@link pooledCertify}. */
export interface PooledCertifyOptions {
  /** Block sizes per layer index, or a name (`'pool2'`, `'pool4'`, `'pool2-2'`); see {@link parsePoolSpec}. */
  pool: PoolSpecLike;
  /** Schedule value of the box. @defaultValue 1 (the whole [0,1] range) */
  eps?: number;
  /** `'fast'` (pooled local terms / windows) or `'naive'` (pooled full boxes). @defaultValue 'fast' */
  method?: BoundMethod;
  /** Bound rows (image × location pairs) per pass. @defaultValue automatic */
  chunk?: number;
  /** Images per batch. @defaultValue 32 */
  imageBatch?: number;
}

/** What {@link pooledCertify} returns, one entry per image. */
export interface PooledCertifyResult {
  /** 1 iff every pooled margin lower bound is ≥ 0 (then the exact certificate holds too). */
  certified: Uint8Array;
  /** 1 iff the clean image is classified correctly. */
  correct: Uint8Array;
  /** The smallest pooled margin lower bound over blocks and classes j ≠ y (≤ the exact one). */
  worstMargin: Float32Array;
  /** Row-major index of the worst block in the pooled grid. */
  worstBlock: Int32Array;
  /** The class j of `worstMargin`. */
  worstClass: Int32Array;
  /** The pooled grid: blocks `rows × cols`, each `span × span` locations (partial at the edges). */
  grid: { rows: number; cols: number; span: number };
}

/**
 * Approximate-but-sound certification with bound pooling: the bounds of adjacent patch
 * locations are pooled after the listed layers, so deeper layers process one box per block.
 * Each pooled box contains its members' boxes, so an image certified here is certified by the
 * exact `certify` (the converse need not hold).
 *
 * @param model - the network (last layer dense).
 * @param images - pixel images `[batch, height, width, channels]` in [0,1].
 * @param labels - true classes `[batch]`.
 * @param threat - a patch threat over the full location grid.
 * @returns per-image verdicts and worst blocks.
 * @throws PatchcertError `INVALID_OPTION` (pool, eps, method, chunk, imageBatch),
 *   `SHAPE_MISMATCH` (images/labels).
 * @example
 * const res = pooledCertify(model, images, labels, squarePatch(2), { pool: 'pool4' });
 */
export function pooledCertify(model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: PatchThreat, options: PooledCertifyOptions): PooledCertifyResult {
  assert(options !== null && typeof options === 'object', () => `Error in pooledCertify: options must be an object with pool, but got ${String(options)}.`, 'INVALID_OPTION');
  const pool = parsePoolSpec(options.pool, model);
  const imageBatch = options.imageBatch ?? 32;
  assert(Number.isInteger(imageBatch) && imageBatch >= 1, () => `Error in pooledCertify: imageBatch must be a positive integer, but got ${imageBatch}.`, 'INVALID_OPTION');
  assert(images instanceof tf.Tensor && images.rank === 4, () => `Error in pooledCertify: images must be a tensor [batch, height, width, channels], but got ${images instanceof tf.Tensor ? `shape [${images.shape}]` : typeof images}.`, 'SHAPE_MISMATCH');
  const [n, h, w, ch] = images.shape;
  const y = labels instanceof tf.Tensor ? Int32Array.from(labels.dataSync() as ArrayLike<number>) : Int32Array.from(labels as ArrayLike<number>);
  assert(y.length === n, () => `Error in pooledCertify: labels must have one entry per image (${n}), but got ${y.length}.`, 'SHAPE_MISMATCH');
  const g = pooledGrid(threat, h, w, pool);
  const res: PooledCertifyResult = {
    certified: new Uint8Array(n),
    correct: new Uint8Array(n),
    worstMargin: new Float32Array(n).fill(Infinity),
    worstBlock: new Int32Array(n),
    worstClass: new Int32Array(n),
    grid: { rows: g.rows, cols: g.cols, span: g.span },
  };
  const classes = model.numClasses;
  const nan = new Uint8Array(n);
  for (let b0 = 0; b0 < n; b0 += imageBatch) {
    const bn = Math.min(imageBatch, n - b0);
    tf.tidy(() => {
      const x = tf.slice(images, [b0, 0, 0, 0], [bn, h, w, ch]);
      const yb = y.subarray(b0, b0 + bn);
      const pred = tf.argMax(model.predict(x), 1).dataSync();
      const m = pooledLocationMargins(model, x, yb, threat, {
        pool, eps: options.eps ?? 1, gradients: false,
        ...(options.method ? { method: options.method } : {}), ...(options.chunk ? { chunk: options.chunk } : {}),
      });
      const data = m.dataSync();
      const blocks = m.shape[1];
      for (let b = 0; b < bn; b++) {
        const img = b0 + b;
        res.correct[img] = pred[b] === yb[b] ? 1 : 0;
        for (let s = 0; s < blocks; s++) {
          for (let j = 0; j < classes; j++) {
            if (j === yb[b]) continue;
            const v = data[(b * blocks + s) * classes + j]!;
            if (Number.isNaN(v)) nan[img] = 1;
            if (v < res.worstMargin[img]!) {
              res.worstMargin[img] = v;
              res.worstBlock[img] = s;
              res.worstClass[img] = j;
            }
          }
        }
      }
    });
  }
  for (let i = 0; i < n; i++) {
    if (nan[i]) res.worstMargin[i] = NaN;
    res.certified[i] = res.worstMargin[i]! >= 0 ? 1 : 0;
  }
  return res;
}
