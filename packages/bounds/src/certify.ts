import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { ThreatModel } from './threat-model.js';
import type { PatchThreat } from './patch-threat.js';
import type { LabelsLike } from './internal/labels.js';
import { fastPlanKind, type BoundMethod } from './internal/create-plan.js';
import { checkArgs, checkChunk } from './internal/batch.js';
import { labelSortedPasses } from './internal/label-sorted-passes.js';
import { prunedPasses } from './internal/pruned-passes.js';
import { locationBlocks } from './internal/location-blocks.js';
import type { PreparedBatch } from './internal/prepared.js';

/**
 * Block side of the pruning round: 2×2 blocks of locations (196 blocks for a 2×2 patch on
 * MNIST, 27 % of the locations' work) left 31–35 % of the locations to compute exactly on the
 * shipped models; 3×3 blocks left 75–82 %.
 */
const PRUNE_BLOCK = 2;

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
  /**
   * Skip locations that cannot hold an image's worst margin: bound 2×2 blocks of locations at
   * once (their union patch), then compute exact margins only where a block's bound is not above
   * the best exact margin found so far. Same result as without; off (every location computed)
   * with `marginMap`, the sparse threat, fixed location lists and grids under 16 locations.
   * By default a batch whose blocks and remaining candidates come to over 85 % of the locations
   * computes every location, and pruning stops once at least 4 batches and over 3/4 of them did;
   * `true` prunes every batch.
   * @defaultValue on for models that start with convolutions and `method: 'fast'`; off for the
   *   MLP (its locations are so cheap that pruning costs more than it saves) and for `'naive'`
   *   (the reference computation)
   */
  prune?: boolean;
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
  const [n, h, w] = images.shape;
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
  // Keeps the smallest (margin, location, class), i.e. the full loop's first minimum in location
  // order then class order, whatever order the rows come in. A NaN bound proves nothing: it
  // makes the image uncertified.
  const fold = (img: number, yb: number, loc: number, data: Float32Array, off: number): void => {
    for (let j = 0; j < classes; j++) {
      if (j === yb) continue;
      const v = data[off + j]!;
      if (Number.isNaN(v)) nan[img] = 1;
      const worst = res.worstMargin[img]!;
      if (v < worst || (v === worst && (loc < res.worstLocation[img]! || (loc === res.worstLocation[img]! && j < res.worstClass[img]!)))) {
        res.worstMargin[img] = v;
        res.worstLocation[img] = loc;
        res.worstClass[img] = j;
      }
    }
  };
  const batch = (prep: PreparedBatch, idx: Int32Array): void => {
    const pred = tf.argMax(model.forward(prep.boxes.clean), 1).dataSync();
    for (let b = 0; b < idx.length; b++) res.correct[idx[b]!] = pred[b] === prep.hostLabels![b] ? 1 : 0;
  };
  const passOptions = { eps, method: args.method, chunk: options.chunk, imageBatch };
  // By default only where every location runs its own pass through the convolutions: a location
  // of the MLP's fused plan costs so little that the block round and the padded, regrouped exact
  // rounds cost more than they skip (shipped MLP 2×2, 512 images: pruned 0.44–0.47 CPU-s vs
  // 0.32–0.34 full, 21:35 UTC, with the window sums at the requested rows only).
  const prune = (options.prune ?? (args.method === 'fast' && fastPlanKind({ model }) === 'conv-window')) && !options.marginMap && threat.kind === 'patch';
  const blocks = prune ? locationBlocks(threat, h, w, PRUNE_BLOCK) : undefined;
  if (blocks) {
    prunedPasses(model, images, args.labels, threat as PatchThreat, blocks, { ...passOptions, adaptive: options.prune === undefined }, { batch, row: fold });
  } else {
    labelSortedPasses(model, images, args.labels, threat, passOptions, {
      batch,
      pass(idx, y, l0, k, data) {
        for (let b = 0; b < idx.length; b++) {
          const map = res.marginMap?.[idx[b]!];
          for (let l = 0; l < k; l++) {
            const off = (b * k + l) * classes;
            if (map) map.set(data.subarray(off, off + classes), (l0 + l) * classes);
            fold(idx[b]!, y[b]!, l0 + l, data, off);
          }
        }
      },
    });
  }
  for (let i = 0; i < n; i++) {
    if (nan[i]) res.worstMargin[i] = NaN;
    res.certified[i] = res.worstMargin[i]! >= 0 ? 1 : 0;
  }
  return res;
}
