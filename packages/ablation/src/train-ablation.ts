import { PatchcertError, Rng, tf, check } from '@patchcert/backend';
import { batches, type ImageDataset } from '@patchcert/datasets';
import type { SequentialModel } from '@patchcert/models';
import { encodeAblated } from './ablation-encoding.js';
import { bandCount, identityPermutation, randomKeepMasks, writeBandMask, type BandKind } from './ablation-masks.js';
import { checkInt } from './internal/fail.js';

/**
 * Which ablations the base classifier is trained on.
 * - `random-ablation`: all but `kKeep` uniformly random pixels ablated (Levine & Feizi 2019).
 * - `column`: one column band of width `bandWidth` at a uniformly random start kept (wrapping).
 * - `block`: one `bandWidth`×`bandWidth` block at a uniformly random corner kept (wrapping).
 */
export type AblationMode =
  | { mode: 'random-ablation'; kKeep: number }
  | { mode: 'column'; bandWidth: number }
  | { mode: 'block'; bandWidth: number };

/** One step's report to {@link AblationTrainOptions.onProgress}. */
export interface AblationTrainProgress {
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  batches: number;
  /** Mean cross-entropy of this batch. */
  loss: number;
  /** Accuracy of this batch on its ablated inputs. */
  accuracy: number;
}

/** Options of {@link trainAblationClassifier}. */
export interface AblationTrainOptions {
  /** @defaultValue 1 */
  epochs?: number;
  /** @defaultValue 128 */
  batchSize?: number;
  /** Adam learning rate. @defaultValue 0.001 */
  lr?: number;
  /** Seed of the shuffling and the ablation draws. @defaultValue 0 */
  seed?: number;
  /** Called after every step. @defaultValue undefined */
  onProgress?: (p: AblationTrainProgress) => void;
}

/** The defaults of {@link trainAblationClassifier}, written out in full. */
export const DEFAULT_ABLATION_TRAIN = { epochs: 1, batchSize: 128, lr: 0.001, seed: 0 } as const;

/** Per-epoch means returned by {@link trainAblationClassifier}. */
export interface AblationTrainResult {
  epochs: { loss: number; accuracy: number }[];
  steps: number;
  seconds: number;
}

/**
 * Writes one fresh keep mask per image of a batch into `out` (`[count · H · W]`).
 *
 * @param mode - the ablation family.
 * @param rng - the generator the draws come from.
 * @param scratch - a permutation of 0..H·W−1 reused by random ablation.
 */
export function sampleTrainingMasks(mode: AblationMode, rng: Rng, out: Float32Array, count: number, height: number, width: number, scratch: Int32Array): void {
  const d = height * width;
  if (mode.mode === 'random-ablation') {
    randomKeepMasks(rng, out, count, d, mode.kKeep, scratch);
    return;
  }
  const kind: BandKind = mode.mode;
  const n = bandCount(kind, height, width);
  for (let i = 0; i < count; i++) writeBandMask(out, i * d, kind, rng.int(n), height, width, mode.bandWidth);
}

function checkMode(fn: string, mode: AblationMode, h: number, w: number): void {
  check(mode !== null && typeof mode === 'object', 'INVALID_OPTION', fn, 'mode', 'an object', () => String(mode));
  const m = (mode as { mode: unknown }).mode;
  if (m === 'random-ablation') checkInt(fn, 'mode.kKeep', (mode as { kKeep: unknown }).kKeep, 1, h * w);
  else if (m === 'column') checkInt(fn, 'mode.bandWidth', (mode as { bandWidth: unknown }).bandWidth, 1, w);
  else if (m === 'block') checkInt(fn, 'mode.bandWidth', (mode as { bandWidth: unknown }).bandWidth, 1, Math.min(h, w));
  else check(false, 'INVALID_OPTION', fn, 'mode.mode', "'random-ablation', 'column' or 'block'", () => `'${String(m)}'`);
}

/**
 * Trains a base classifier for ablation certificates: plain cross-entropy on ablated images
 * (encoded by {@link encodeAblated}), Adam, every batch with fresh ablations (one per image).
 * Shuffling and ablations come from one generator seeded by `seed`, so a run is reproducible.
 * The mode is recorded in `model.metadata.training` (`strategy: 'ablation:<mode>'`, `ablation`),
 * which `saveModel` keeps, so {@link ablationModeOf} can tell a loaded model's certificate.
 *
 * @param model - built for `[H, W, 2C]` of the dataset's `[H, W, C]`; trained in place.
 * @param dataset - pixel images and labels (from `loadDataset`).
 * @param mode - which ablations to train on.
 * @returns per-epoch mean loss and accuracy on the ablated training inputs.
 * @throws PatchcertError SHAPE_MISMATCH / INVALID_OPTION for inputs that do not fit.
 * @example
 * const model = buildModel('cnn-4layer', { inputShape: [28, 28, 2], numClasses: 10, seed: 0 });
 * await trainAblationClassifier(model, train, { mode: 'column', bandWidth: 4 }, { epochs: 2 });
 */
export async function trainAblationClassifier(
  model: SequentialModel,
  dataset: ImageDataset,
  mode: AblationMode,
  options: AblationTrainOptions = {},
): Promise<AblationTrainResult> {
  const fn = 'trainAblationClassifier';
  const t0 = performance.now();
  const [h, w, c] = dataset.shape;
  const [mh, mw, mc] = model.inputShape;
  check(mh === h && mw === w && mc === 2 * c, 'SHAPE_MISMATCH', fn, "the model's inputShape", `[${h}, ${w}, ${2 * c}] for a dataset of [${h}, ${w}, ${c}]`, () => `[${model.inputShape}]`);
  checkMode(fn, mode, h, w);
  const epochs = checkInt(fn, 'options.epochs', options.epochs ?? DEFAULT_ABLATION_TRAIN.epochs, 0);
  const batchSize = checkInt(fn, 'options.batchSize', options.batchSize ?? DEFAULT_ABLATION_TRAIN.batchSize, 1);
  const lr = options.lr ?? DEFAULT_ABLATION_TRAIN.lr;
  check(typeof lr === 'number' && lr > 0 && Number.isFinite(lr), 'INVALID_OPTION', fn, 'options.lr', 'a finite number > 0', () => String(lr));
  const seed = options.seed ?? DEFAULT_ABLATION_TRAIN.seed;
  check(Number.isFinite(seed), 'INVALID_OPTION', fn, 'options.seed', 'a finite number', () => String(seed));

  // Recorded so a saved model says how to certify it (see ablationModeOf); set before training
  // so a checkpoint written from onProgress carries it too.
  model.metadata.training = { ...model.metadata.training, strategy: `ablation:${mode.mode}`, ablation: { ...mode }, epochs, seed };
  const rng = new Rng(seed);
  const d = h * w;
  const scratch = identityPermutation(d);
  const maskBuf = new Float32Array(batchSize * d);
  const optimizer = tf.train.adam(lr);
  const vars = model.trainableVariables();
  const numBatches = Math.ceil(dataset.count / batchSize);
  const history: { loss: number; accuracy: number }[] = [];
  let steps = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      let lossSum = 0;
      let hitSum = 0;
      let seen = 0;
      let bi = 0;
      for (const { x, y } of batches(dataset, { batchSize, shuffle: true, rng })) {
        const b = x.shape[0];
        sampleTrainingMasks(mode, rng, maskBuf, b, h, w, scratch);
        const keep = tf.tensor4d(maskBuf.subarray(0, b * d), [b, h, w, 1]);
        let hits = 0;
        const loss = optimizer.minimize(
          () => {
            const logits = model.predict(encodeAblated(x, keep));
            hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32')).dataSync()[0]!);
            return tf.losses.softmaxCrossEntropy(tf.oneHot(y, model.numClasses), logits) as tf.Scalar;
          },
          true,
          vars,
        );
        const lossValue = loss ? loss.dataSync()[0]! : Number.NaN;
        loss?.dispose();
        tf.dispose([keep, x, y]);
        lossSum += lossValue * b;
        hitSum += hits;
        seen += b;
        steps++;
        options.onProgress?.({ epoch, batch: bi, batches: numBatches, loss: lossValue, accuracy: hits / b });
        bi++;
        // Let event handlers (progress bars, SIGINT) run between steps.
        if (bi % 16 === 0) await new Promise<void>((r) => setImmediate(r));
      }
      history.push({ loss: lossSum / Math.max(1, seen), accuracy: hitSum / Math.max(1, seen) });
    }
  } finally {
    optimizer.dispose();
  }
  return { epochs: history, steps, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The ablation a base classifier was trained with, from `model.metadata.training.ablation` (set
 * by {@link trainAblationClassifier} and kept by saveModel/loadModel), or null for a model
 * without one (an IBP model). The certify app uses it to pick the certificate and its band
 * width / kKeep.
 *
 * @throws PatchcertError MODEL_FORMAT when the record exists but is not a valid mode for the
 *   model's input shape.
 */
export function ablationModeOf(model: SequentialModel): AblationMode | null {
  const record = model.metadata.training?.['ablation'];
  if (record === undefined) return null;
  const [h, w, c2] = model.inputShape;
  try {
    checkMode('ablationModeOf', record as AblationMode, h, w);
  } catch (err) {
    throw new PatchcertError('MODEL_FORMAT', (err as Error).message, { cause: err });
  }
  check(c2 % 2 === 0, 'MODEL_FORMAT', 'ablationModeOf', "an ablation model's input channels", 'even (2C)', () => String(c2));
  const m = record as AblationMode;
  return m.mode === 'random-ablation' ? { mode: m.mode, kKeep: m.kKeep } : { mode: m.mode, bandWidth: m.bandWidth };
}
