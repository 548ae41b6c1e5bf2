import { Rng, tf, check } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { ablationDelta } from './ablation-delta.js';
import { encodeAblated } from './ablation-encoding.js';
import { identityPermutation, randomKeepMasks } from './ablation-masks.js';
import { clopperPearsonLower } from './clopper-pearson.js';
import { checkInt, checkOpen } from './internal/fail.js';
import { checkModelAndImages, readLabels } from './internal/inputs.js';

/** Options of {@link certifyRandomAblation}. */
export interface RandomAblationCertifyOptions {
  /** Pixels kept per sample (the base classifier's training value). */
  kKeep: number;
  /** Numbers of changed pixels (L0 radii) to certify, each in [0, H·W]. */
  k: number[];
  /**
   * Samples that pick the top class.
   * @defaultValue 100
   */
  n0?: number;
  /**
   * Samples that estimate its probability.
   * @defaultValue 1000
   */
  n?: number;
  /**
   * One-sided failure probability of the Clopper–Pearson bound.
   * @defaultValue 0.05
   */
  alpha?: number;
  /**
   * Seed of the ablation draws.
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Samples per forward pass.
   * @defaultValue 1024
   */
  batchSize?: number;
}

/** The defaults of {@link certifyRandomAblation}, written out in full. */
export const DEFAULT_RANDOM_ABLATION_CERTIFY = { n0: 100, n: 1000, alpha: 0.05, seed: 0, batchSize: 1024 } as const;

/** What {@link certifyRandomAblation} returns; per-image arrays follow the input order. */
export interface RandomAblationCertifyResult {
  /** The top class of the n0 selection samples, or −1 when the bound says abstain (pA ≤ 1/2). */
  predicted: Int32Array;
  /** The top class of the selection samples (also for abstaining images). */
  topClass: Int32Array;
  /** Clopper–Pearson lower bound on the top class's probability under random ablation. */
  pALower: Float64Array;
  /** 1 when `predicted` equals the label. */
  correct: Uint8Array;
  /** The radii, in the order of `robust` and `certified`. */
  k: number[];
  /** Δ(k) per radius. */
  delta: number[];
  /** Per radius, per image: 1 when pALower > 1/2 + Δ(k) (no k changed pixels change the prediction, w.p. ≥ 1 − α). */
  robust: Uint8Array[];
  /** Per radius, per image: robust and correct. */
  certified: Uint8Array[];
  /** Per image: the largest k certified (−1 on abstention). */
  maxCertifiedK: Int32Array;
  /** Base-classifier forward passes per image (n0 + n). */
  forwardPassesPerImage: number;
  /** Wall time of the certification. */
  seconds: number;
}

/**
 * The base classifier's class on `count` random ablations of one image `[1, H, W, C]`, drawn
 * in order from `rng` and classified `batchSize` at a time.
 */
function sampleClasses(
  model: SequentialModel,
  image: tf.Tensor4D,
  count: number,
  kKeep: number,
  rng: Rng,
  batchSize: number,
  scratch: Int32Array,
): Int32Array {
  const [, h, w] = image.shape;
  const d = h * w;
  const classes = new Int32Array(count);
  const maskBuf = new Float32Array(Math.min(batchSize, count) * d);
  for (let done = 0; done < count; done += batchSize) {
    const b = Math.min(batchSize, count - done);
    randomKeepMasks(rng, maskBuf, b, d, kKeep, scratch);
    const cls = tf.tidy(() => {
      const keep = tf.tensor4d(maskBuf.subarray(0, b * d), [b, h, w, 1]);
      return tf.argMax(model.predict(encodeAblated(image, keep)), 1);
    });
    classes.set(cls.dataSync(), done);
    cls.dispose();
  }
  return classes;
}

function argmaxFirst(a: Int32Array): number {
  let best = 0;
  for (let c = 1; c < a.length; c++) if (a[c]! > a[best]!) best = c;
  return best;
}

/**
 * Certifies the random-ablation classifier of Levine & Feizi (2019) against L0 attacks (any k
 * changed pixels, all channels of a pixel counting as one). The smoothed classifier predicts the
 * class the base classifier gives most often on the image with all but `kKeep` random pixels
 * ablated. Following Cohen et al.'s CERTIFY: n0 samples pick the top class cA, n fresh samples
 * count it, and pA = Clopper–Pearson lower bound at 1 − α. A k-pixel change alters a sample only
 * if a kept pixel is attacked, which happens with probability Δ(k) (see {@link ablationDelta}),
 * so after the attack cA keeps probability ≥ pA − Δ(k) and any other class has ≤ 1 − pA + Δ(k);
 * the prediction is certified for k when pA − Δ(k) > 1 − pA + Δ(k), i.e. pA > 1/2 + Δ(k).
 * pA ≤ 1/2 abstains.
 *
 * @param model - base classifier built for `[H, W, 2C]` (see {@link encodeAblated}).
 * @param images - pixel images `[batch, height, width, channels]` in [0,1].
 * @param labels - true classes.
 * @returns predictions, bounds and per-radius verdicts; cost n0 + n forward passes per image.
 * @throws PatchcertError SHAPE_MISMATCH / INVALID_OPTION / INVALID_ARGUMENT for bad inputs.
 * @example
 * const r = certifyRandomAblation(model, x, y, { kKeep: 45, k: [1, 4, 10], n: 1000 });
 */
export function certifyRandomAblation(
  model: SequentialModel,
  images: tf.Tensor4D,
  labels: ArrayLike<number> | tf.Tensor1D,
  options: RandomAblationCertifyOptions,
): RandomAblationCertifyResult {
  const fn = 'certifyRandomAblation';
  const t0 = performance.now();
  const [h, w, c] = checkModelAndImages(fn, model, images);
  const d = h * w;
  check(options !== null && typeof options === 'object', 'INVALID_OPTION', fn, 'options', 'an object', () => String(options));
  const o = { ...DEFAULT_RANDOM_ABLATION_CERTIFY, ...stripUndefined(options) };
  const kKeep = checkInt(fn, 'options.kKeep', o.kKeep, 1, d);
  const n0 = checkInt(fn, 'options.n0', o.n0, 1);
  const nEst = checkInt(fn, 'options.n', o.n, 1);
  const alpha = checkOpen(fn, 'options.alpha', o.alpha, 0, 1);
  const batchSize = checkInt(fn, 'options.batchSize', o.batchSize, 1);
  check(Number.isFinite(o.seed), 'INVALID_OPTION', fn, 'options.seed', 'a finite number', () => String(o.seed));
  check(Array.isArray(o.k) && o.k.length > 0, 'INVALID_OPTION', fn, 'options.k', 'a non-empty array of pixel counts', () => JSON.stringify(o.k));
  const ks = o.k.map((k, i) => checkInt(fn, `options.k[${i}]`, k, 0, d));
  const count = images.shape[0];
  const y = readLabels(fn, labels, count, model.numClasses);

  const delta = ks.map((k) => ablationDelta(d, kKeep, k));
  const rng = new Rng(o.seed);
  const scratch = identityPermutation(d);
  const predicted = new Int32Array(count);
  const topClass = new Int32Array(count);
  const pALower = new Float64Array(count);
  const correct = new Uint8Array(count);
  const robust = ks.map(() => new Uint8Array(count));
  const certified = ks.map(() => new Uint8Array(count));
  const maxCertifiedK = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const image = tf.slice(images, [i, 0, 0, 0], [1, h, w, c]);
    let top: number;
    let hits: number;
    try {
      // Selection and estimation samples are independent draws; classifying them in the same
      // passes only saves a small batch per image.
      const classes = sampleClasses(model, image, n0 + nEst, kKeep, rng, batchSize, scratch);
      const selection = new Int32Array(model.numClasses);
      for (let r = 0; r < n0; r++) selection[classes[r]!]! += 1;
      top = argmaxFirst(selection);
      hits = 0;
      for (let r = n0; r < n0 + nEst; r++) if (classes[r] === top) hits++;
    } finally {
      image.dispose();
    }
    const pA = clopperPearsonLower(hits, nEst, alpha);
    topClass[i] = top;
    pALower[i] = pA;
    const abstain = !(pA > 0.5);
    predicted[i] = abstain ? -1 : top;
    correct[i] = predicted[i] === y[i] ? 1 : 0;
    ks.forEach((_, j) => {
      const ok = !abstain && pA > 0.5 + delta[j]!;
      robust[j]![i] = ok ? 1 : 0;
      certified[j]![i] = ok && correct[i] === 1 ? 1 : 0;
    });
    maxCertifiedK[i] = abstain ? -1 : largestCertifiedK(pA, d, kKeep);
  }
  return {
    predicted,
    topClass,
    pALower,
    correct,
    k: ks,
    delta,
    robust,
    certified,
    maxCertifiedK,
    forwardPassesPerImage: n0 + nEst,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** The largest k with pA > 1/2 + Δ(k) (Δ grows with k, so bisection), or −1 when none. */
function largestCertifiedK(pA: number, d: number, kKeep: number): number {
  if (!(pA > 0.5)) return -1;
  let lo = 0; // certified (Δ(0) = 0)
  let hi = d + 1; // sentinel: not certified
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (pA > 0.5 + ablationDelta(d, kKeep, mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
