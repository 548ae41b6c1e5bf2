import { identityNormalization, PatchcertError, tf } from '@patchcert/backend';
import type { MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import type { ImageDataset } from '@patchcert/datasets';
import type { SequentialModel } from '@patchcert/models';
import { ablationMargins, certifyDerandomizedColumns, certifyRandomAblation, DEFAULT_RANDOM_ABLATION_CERTIFY, type AblationMode } from '@patchcert/ablation';
import type { EvaluateOptions } from '../evaluate.js';
import type { StrategyRun } from '../strategy-run.js';
import type { TrainConfig } from '../train-config.js';
import type { EvaluationResult } from '../trainer-events.js';
import { evaluateBatches } from '../internal/evaluate-batches.js';

/** The config entries of the ablation strategies. */
type AblationStrategyConfig = Extract<TrainConfig['strategy'], { type: 'ablation-column' | 'ablation-block' | 'ablation-random' }>;

/** The ablation family a strategy config entry trains on. */
export function ablationModeOfStrategy(params: AblationStrategyConfig): AblationMode {
  if (params.type === 'ablation-random') return { mode: 'random-ablation', kKeep: params.kKeep };
  return { mode: params.type === 'ablation-column' ? 'column' : 'block', bandWidth: params.bandWidth };
}

function describeMode(mode: AblationMode): string {
  return mode.mode === 'random-ablation' ? `random-ablation(${mode.kKeep})` : `ablation-${mode.mode}(${mode.bandWidth})`;
}

/**
 * Training of an ablation base classifier as a margin strategy: the margins z_y − z_j of the
 * model on one fresh ablation per image (`ablationMargins`), so the trainer's CE(−m, y) is plain
 * cross-entropy on ablated images. Ablations are drawn from the run's generator, so a resumed
 * run draws the same ones. eps is ignored (no bound is computed).
 *
 * @param mode - which ablations to train on; the model must be built for `[H, W, 2C]`.
 * @returns a strategy named e.g. `ablation-column(4)` or `random-ablation(45)`.
 * @example
 * const s = ablationTraining({ mode: 'column', bandWidth: 4 });
 */
export function ablationTraining(mode: AblationMode): MarginStrategy {
  return {
    name: describeMode(mode),
    margins: (ctx: MarginStrategyContext) => ablationMargins(ctx.model, ctx.images, ctx.labels, mode, ctx.rng),
  };
}

/** Images `[start, start + count)` of `dataset` as tensors, freed after `fn`. */
async function forChunks(
  dataset: ImageDataset,
  options: EvaluateOptions,
  fn: (x: tf.Tensor4D, y: Int32Array, start: number) => { correct: ArrayLike<number>; certified: ArrayLike<number> },
): Promise<EvaluationResult> {
  return evaluateBatches(dataset, options, (x, y, start) => fn(x, Int32Array.from(y.dataSync()), start));
}

function configInvalid(field: string, expected: string, actual: string): PatchcertError {
  return new PatchcertError('CONFIG_INVALID', `Error in train: field '${field}' must be ${expected}, but got ${actual}.`);
}

/**
 * The run of an ablation strategy: the model takes the `[H, W, 2C]` ablation encoding (which
 * already maps pixels to (x, 1 − x) pairs, so its normalization is the identity of 2C
 * channels), records the mode in `metadata.training.ablation` (read back by `ablationModeOf`),
 * trains the same every epoch (no eps warm-up), counts a training image correct when every
 * margin but the label's is positive, and certifies the smoothed classifier: derandomized
 * smoothing against the config's m×m patch, or random ablation against its k pixels.
 *
 * @param params - the config's ablation strategy entry.
 * @param config - the whole config (its threat gives m or k).
 */
export function ablationRun(params: AblationStrategyConfig, config: TrainConfig): StrategyRun {
  const mode = ablationModeOfStrategy(params);
  const threat = config.threat;
  let certificate: string;
  let certify: (model: SequentialModel, x: tf.Tensor4D, y: Int32Array, start: number) => { correct: ArrayLike<number>; certified: ArrayLike<number> };
  if (params.type === 'ablation-random') {
    const kKeep = params.kKeep;
    // The schema pairs ablation-random with a sparse threat.
    const k = threat.type === 'sparse' ? threat.k : 0;
    const d = DEFAULT_RANDOM_ABLATION_CERTIFY;
    const sampling = { n0: params.n0 ?? d.n0, n: params.n ?? d.n, alpha: params.alpha ?? d.alpha };
    certificate = `random ablation kKeep=${kKeep} n0=${sampling.n0} n=${sampling.n} alpha=${sampling.alpha}, k=${k}`;
    certify = (model, x, y, start) => {
      const [, h, w, c] = x.shape;
      const correct = new Uint8Array(y.length);
      const certified = new Uint8Array(y.length);
      // One call per image seeded by its test index (as `certify --method random-ablation` with
      // its default --rs-seed 0), so verdicts do not depend on the evaluation batch size.
      for (let i = 0; i < y.length; i++) {
        const xi = tf.slice(x, [i, 0, 0, 0], [1, h, w, c]);
        try {
          const r = certifyRandomAblation(model, xi, [y[i]!], { kKeep, k: [k], ...sampling, seed: start + i });
          correct[i] = r.correct[0]!;
          certified[i] = r.certified[0]![0]!;
        } finally {
          xi.dispose();
        }
      }
      return { correct, certified };
    };
  } else {
    const { bandWidth } = params;
    const kind = params.type === 'ablation-column' ? 'column' : 'block';
    // The schema pairs column and block smoothing with a square patch threat.
    const m = threat.type === 'patch' ? threat.size : 0;
    certificate = `derandomized ${kind} s=${bandWidth}, ${m}x${m} patch`;
    certify = (model, x, y) => {
      const r = certifyDerandomizedColumns(model, x, y, { bandWidth, kind, patchSizes: [m] });
      return { correct: r.correct, certified: r.certified[0]! };
    };
  }
  return {
    certificate,
    modelInput: (dataset) => {
      const [h, w, c] = dataset.shape;
      if (mode.mode === 'random-ablation' && mode.kKeep > h * w) throw configInvalid('strategy.kKeep', `<= ${h * w} (the pixels of ${dataset.name} images)`, String(mode.kKeep));
      if (mode.mode === 'column' && mode.bandWidth > w) throw configInvalid('strategy.bandWidth', `<= ${w} (the width of ${dataset.name} images)`, String(mode.bandWidth));
      if (mode.mode === 'block' && mode.bandWidth > Math.min(h, w)) throw configInvalid('strategy.bandWidth', `<= ${Math.min(h, w)} (the smaller side of ${dataset.name} images)`, String(mode.bandWidth));
      if (threat.type === 'patch' && threat.size > Math.min(h, w)) throw configInvalid('threat.size', `<= ${Math.min(h, w)} (the smaller side of ${dataset.name} images)`, String(threat.size));
      return { inputShape: [h, w, 2 * c], normalization: identityNormalization(2 * c) };
    },
    metadata: { ablation: { ...mode } },
    warmup: false,
    trainCorrect: (ctx, margins) =>
      tf.tidy(() => {
        // margins hold z_y − z_j with 0 at y: the argmax is y iff every other margin is positive.
        const isLabel = tf.cast(tf.oneHot(tf.cast(ctx.labels, 'int32'), margins.shape[1]), 'bool');
        const others = tf.where(isLabel, tf.fill(margins.shape, Number.POSITIVE_INFINITY), margins);
        return tf.sum(tf.cast(tf.greater(tf.min(others, 1), 0), 'float32')) as tf.Scalar;
      }),
    evaluate: (model, dataset, _threat, options) => forChunks(dataset, options, (x, y, start) => certify(model, x, y, start)),
  };
}
