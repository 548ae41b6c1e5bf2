import { tf, type Normalization } from '@patchcert/backend';
import type { MarginStrategyContext } from '@patchcert/bounds';
import type { ImageDataset } from '@patchcert/datasets';
import type { SequentialModel } from '@patchcert/models';
import { evaluateCertified, type EvaluateOptions } from './evaluate.js';
import type { Threat } from './make-threat.js';
import type { EvaluationResult } from './trainer-events.js';
import { cleanMarginsCorrect } from './strategies/natural-training.js';

/**
 * How a strategy shapes the run around its margins: what the model takes as input, what the
 * model records, whether the eps warm-up applies, how train accuracy is counted and which
 * certificate evaluates it. IBP strategies share {@link IBP_RUN}; a strategy whose certificate
 * is not IBP (the ablation strategies) declares its own through `StrategyDefinition.run`, so the
 * training loop has no per-strategy cases.
 */
export interface StrategyRun {
  /** The certificate evaluation reports, e.g. `ibp` or `derandomized column s=4`. */
  readonly certificate: string;
  /**
   * The model's input for the dataset's images.
   * @throws PatchcertError `CONFIG_INVALID` when the strategy does not fit the dataset's images.
   */
  modelInput(dataset: ImageDataset): { inputShape: [number, number, number]; normalization: Normalization };
  /** Fields added to `model.metadata.training` (kept by saveModel), e.g. the ablation mode. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** True when epochs whose end eps is 0 train naturally (the reference warm-up). */
  readonly warmup: boolean;
  /**
   * Correct predictions of a training batch as a float32 scalar, before the step. Called inside
   * the gradient tape right after `margins`, with them; the caller keeps and disposes the result.
   * `clean` is true when the margins are the clean logit differences z_y − z_j (natural
   * training), so the count can come from them instead of another forward pass.
   */
  trainCorrect(ctx: MarginStrategyContext, margins: tf.Tensor2D, clean: boolean): tf.Scalar;
  /** Clean and certified accuracy of the first `options.limit` images of `dataset`. */
  evaluate(model: SequentialModel, dataset: ImageDataset, threat: Threat, options: EvaluateOptions): Promise<EvaluationResult>;
}

/**
 * The run of IBP strategies: the model takes the dataset's images with its normalization, the
 * warm-up applies, train accuracy is clean accuracy on the batch (from clean margins when the
 * strategy's are clean, else from a forward pass), and evaluation certifies every location with
 * IBP ({@link evaluateCertified}).
 */
export const IBP_RUN: StrategyRun = {
  certificate: 'ibp',
  modelInput: (dataset) => ({ inputShape: [...dataset.shape], normalization: dataset.normalization }),
  metadata: {},
  warmup: true,
  trainCorrect: (ctx, margins, clean) =>
    clean
      ? cleanMarginsCorrect(margins, ctx.labels)
      : tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(ctx.model.predict(ctx.images), 1), tf.cast(ctx.labels, 'int32')), 'float32')) as tf.Scalar),
  evaluate: evaluateCertified,
};
