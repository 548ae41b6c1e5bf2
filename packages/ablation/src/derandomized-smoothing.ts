import { op, tf, check } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { encodeAblated } from './ablation-encoding.js';
import { bandCount, bandMasks, bandsMetByPatch, type BandKind } from './ablation-masks.js';
import { checkInt } from './internal/fail.js';
import { checkModelAndImages, readLabels } from './internal/inputs.js';
import { certifyVoteCounts } from './vote-certificate.js';

/** Options of {@link bandVotes} and {@link certifyDerandomizedColumns}. */
export interface BandVoteOptions {
  /** s: width of a column band (side of a block band). */
  bandWidth: number;
  /**
   * `column`: W bands of s full-height columns (Levine & Feizi 2020's column smoothing).
   * `block`: H·W blocks of s×s pixels.
   * @defaultValue 'column'
   */
  kind?: BandKind;
  /**
   * A band abstains when its largest logit is below this value (Levine & Feizi's threshold θ,
   * applied here to logits). Abstentions are not counted for any class.
   * @defaultValue undefined (every band votes)
   */
  threshold?: number;
  /**
   * Ablated rows per forward pass.
   * @defaultValue 2048
   */
  batchSize?: number;
}

/** Options of {@link certifyDerandomizedColumns}. */
export interface DerandomizedCertifyOptions extends BandVoteOptions {
  /** The patch sides m to certify against, each in [1, min(H, W)]. */
  patchSizes: number[];
}

/** What {@link certifyDerandomizedColumns} returns; per-image arrays follow the input order. */
export interface DerandomizedCertifyResult {
  /** `[images · classes]`: votes per class. */
  votes: Int32Array;
  numClasses: number;
  /** Bands per image (W for columns, H·W for blocks); also the forward passes per image. */
  bands: number;
  /** The smoothed prediction: most votes, ties to the smaller class index. */
  predicted: Int32Array;
  /** 1 when `predicted` equals the label. */
  correct: Uint8Array;
  /** The patch sizes, in the order of `robust` and `certified`. */
  patchSizes: number[];
  /** Per patch size: bands an m×m patch can meet (m + s − 1 for columns). */
  delta: number[];
  /** Per patch size, per image: 1 when no m×m patch can change the prediction. */
  robust: Uint8Array[];
  /** Per patch size, per image: robust and correct (what certified accuracy counts). */
  certified: Uint8Array[];
  /** Base-classifier forward passes per image (= bands). */
  forwardPassesPerImage: number;
  /** Wall time of the certification. */
  seconds: number;
}

const DEFAULT_BATCH_SIZE = 2048;

/**
 * Every image under every band's ablation, image-major: `[n · bands, H, W, 2C]` from images
 * `[n, H, W, C]` and keep masks `[bands, H, W, 1]`. The same encoding as {@link encodeAblated},
 * by broadcasting in rank 5 (tfjs has no rank-5 tile gradient, and broadcasting copies nothing).
 */
function encodeBands(images: tf.Tensor4D, masks: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  const bands = masks.shape[0];
  const x = tf.reshape(images, [n, 1, h, w, c]);
  const keep = tf.reshape(masks, [1, bands, h, w, 1]);
  const encoded = tf.concat([tf.mul(x, keep), tf.mul(tf.sub(1, x), keep)], 4);
  return tf.reshape(encoded, [n * bands, h, w, 2 * c]) as tf.Tensor4D;
}

function checkBandOptions(fn: string, opts: BandVoteOptions, h: number, w: number): Required<Omit<BandVoteOptions, 'threshold'>> & { threshold: number | undefined } {
  check(opts !== null && typeof opts === 'object', 'INVALID_OPTION', fn, 'options', 'an object', () => String(opts));
  const kind = opts.kind ?? 'column';
  check(kind === 'column' || kind === 'block', 'INVALID_OPTION', fn, 'options.kind', "'column' or 'block'", () => `'${String(kind)}'`);
  const bandWidth = checkInt(fn, 'options.bandWidth', opts.bandWidth, 1, kind === 'column' ? w : Math.min(h, w));
  const batchSize = checkInt(fn, 'options.batchSize', opts.batchSize ?? DEFAULT_BATCH_SIZE, 1);
  const threshold = opts.threshold;
  check(threshold === undefined || Number.isFinite(threshold), 'INVALID_OPTION', fn, 'options.threshold', 'a finite number or undefined', () => String(threshold));
  return { kind, bandWidth, batchSize, threshold };
}

/**
 * Every band's vote for every image: the base classifier's argmax on the image ablated to that
 * band (ties to the smaller class), or −1 when it abstains under `threshold`.
 *
 * @param model - base classifier built for `[H, W, 2C]` (see {@link encodeAblated}).
 * @param images - pixel images `[batch, height, width, channels]`.
 * @returns `[batch · bands]` class per band (band order of {@link bandMasks}).
 * @throws PatchcertError SHAPE_MISMATCH / INVALID_OPTION for inputs that do not fit.
 */
export function bandVotes(model: SequentialModel, images: tf.Tensor4D, options: BandVoteOptions): Int32Array {
  const fn = 'bandVotes';
  const [h, w, c] = checkModelAndImages(fn, model, images);
  const { kind, bandWidth, batchSize, threshold } = checkBandOptions(fn, options, h, w);
  const n = images.shape[0];
  const bands = bandCount(kind, h, w);
  const out = new Int32Array(n * bands);
  const masks = tf.tensor4d(bandMasks(kind, h, w, bandWidth), [bands, h, w, 1]);
  try {
    // Whole images per pass so each pass tiles the mask once; at least one image per pass.
    const perPass = Math.max(1, Math.floor(batchSize / bands));
    for (let start = 0; start < n; start += perPass) {
      const b = Math.min(perPass, n - start);
      const [cls, best] = tf.tidy(() => {
        const x = tf.slice(images, [start, 0, 0, 0], [b, h, w, c]);
        const logits = model.predict(encodeBands(x, masks));
        return [tf.argMax(logits, 1), tf.max(logits, 1)];
      });
      const clsData = cls.dataSync();
      const bestData = best.dataSync();
      tf.dispose([cls, best]);
      for (let r = 0; r < b * bands; r++) {
        out[start * bands + r] = threshold !== undefined && bestData[r]! < threshold ? -1 : clsData[r]!;
      }
    }
  } finally {
    masks.dispose();
  }
  return out;
}

/**
 * Certifies the derandomized-smoothing classifier of Levine & Feizi (2020) against m×m patches.
 * Each of the W column bands (or H·W blocks) votes with the base classifier on the image ablated
 * to that band; the prediction is the class with most votes (ties to the smaller index). An m×m
 * patch meets at most Δ = m + s − 1 column bands ((m + s − 1)² blocks), the only votes it can
 * change, so the prediction is certified when the vote margin survives Δ flipped votes (exact
 * tie rule in {@link certifyVoteCounts}). Deterministic: no sampling, no confidence level.
 *
 * @param model - base classifier built for `[H, W, 2C]`.
 * @param images - pixel images `[batch, height, width, channels]` in [0,1].
 * @param labels - true classes, one per image.
 * @returns votes, predictions and per-patch-size verdicts; cost is `bands` forward passes per image.
 * @throws PatchcertError SHAPE_MISMATCH / INVALID_OPTION / INVALID_ARGUMENT for bad inputs.
 * @example
 * const r = certifyDerandomizedColumns(model, x, y, { bandWidth: 4, patchSizes: [2, 5] });
 * r.certified[1]; // per image: certified against every 5×5 patch
 */
export function certifyDerandomizedColumns(
  model: SequentialModel,
  images: tf.Tensor4D,
  labels: ArrayLike<number> | tf.Tensor1D,
  options: DerandomizedCertifyOptions,
): DerandomizedCertifyResult {
  const fn = 'certifyDerandomizedColumns';
  const t0 = performance.now();
  const [h, w] = checkModelAndImages(fn, model, images);
  const { kind, bandWidth } = checkBandOptions(fn, options, h, w);
  check(Array.isArray(options.patchSizes) && options.patchSizes.length > 0, 'INVALID_OPTION', fn, 'options.patchSizes', 'a non-empty array of patch sides', () =>
    JSON.stringify(options.patchSizes),
  );
  const patchSizes = options.patchSizes.map((m, i) => checkInt(fn, `options.patchSizes[${i}]`, m, 1, Math.min(h, w)));
  const n = images.shape[0];
  const numClasses = model.numClasses;
  const y = readLabels(fn, labels, n, numClasses);
  const bands = bandCount(kind, h, w);
  const perBand = bandVotes(model, images, options);
  const votes = new Int32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < bands; b++) {
      const v = perBand[i * bands + b]!;
      if (v >= 0) votes[i * numClasses + v]! += 1;
    }
  }
  const delta = patchSizes.map((m) => bandsMetByPatch(kind, m, bandWidth, h, w));
  const predicted = new Int32Array(n);
  const correct = new Uint8Array(n);
  const robust = patchSizes.map(() => new Uint8Array(n));
  const certified = patchSizes.map(() => new Uint8Array(n));
  for (let i = 0; i < n; i++) {
    const counts = votes.subarray(i * numClasses, (i + 1) * numClasses);
    delta.forEach((dl, j) => {
      const v = certifyVoteCounts(counts, dl);
      predicted[i] = v.predicted;
      correct[i] = v.predicted === y[i] ? 1 : 0;
      robust[j]![i] = v.certified ? 1 : 0;
      certified[j]![i] = v.certified && correct[i] === 1 ? 1 : 0;
    });
  }
  return {
    votes,
    numClasses,
    bands,
    predicted,
    correct,
    patchSizes,
    delta,
    robust,
    certified,
    forwardPassesPerImage: bands,
    seconds: (performance.now() - t0) / 1000,
  };
}

/**
 * A differentiable stand-in for the smoothed classifier, for gradient attacks: the log of the
 * mean softmax over all bands ("soft votes"). Hard votes have no gradient; this surrogate has the
 * same bands and moves the same way, so an attack that breaks the hard vote usually moves it too.
 *
 * @param model - base classifier built for `[H, W, 2C]`.
 * @param images - pixel images `[batch, height, width, channels]`.
 * @returns `[batch, classes]` log mean band probability (usable as logits).
 */
function softVoteLogits_(model: SequentialModel, images: tf.Tensor4D, options: Pick<BandVoteOptions, 'bandWidth' | 'kind'>): tf.Tensor2D {
  const fn = 'softVoteLogits';
  const [h, w, c] = checkModelAndImages(fn, model, images);
  const { kind, bandWidth } = checkBandOptions(fn, options, h, w);
  const n = images.shape[0];
  const bands = bandCount(kind, h, w);
  const masks = tf.tensor4d(bandMasks(kind, h, w, bandWidth), [bands, h, w, 1]);
  const probs = tf.softmax(model.predict(encodeBands(images, masks)));
  const mean = tf.mean(tf.reshape(probs, [n, bands, model.numClasses]), 1);
  return tf.log(tf.add(mean, 1e-12)) as tf.Tensor2D;
}

export const softVoteLogits = op({ softVoteLogits_ });
