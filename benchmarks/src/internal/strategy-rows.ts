import { Rng, tf, type Normalization } from '@patchcert/backend';
import type { BoundMethod, MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import type { SequentialModel } from '@patchcert/models';
import { Adam, certificateLoss, createStrategy, makeThreat, parseTrainConfig, type StrategyConfig, type Threat } from '@patchcert/trainers';
// Imported for its side effect: once @patchcert/pooling provides the `pooled` strategy it
// registers it with the trainers registry, and the Pool rows below start to run.
import '@patchcert/pooling';

/** A training strategy the strategy suites compare, as the trainers config names it. */
export interface StrategyRow {
  /** The paper's name: `random(10)`, `guided(20)`, `Pool 2-2`. */
  label: string;
  config: StrategyConfig;
  /**
   * Bounds every location (all-patch, pooled), so its gradient tape holds every location's
   * bounds: it gets the small batch.
   */
  everyLocation: boolean;
}

/**
 * The strategies of the paper's tables (reference spec §15.2, §15.5): natural (the baseline),
 * random(1/5/10/20), guided(10/20), Pool 2 / Pool 4 / Pool 2-2 and all-patch, cheapest first so
 * the process's resident memory (wasm's heap never shrinks) grows row by row.
 *
 * @param method - bounds' method for the strategies that take one (random, all); each strategy's
 *   own default when absent.
 */
export function strategyRows(method?: BoundMethod): StrategyRow[] {
  const m = method ? { method } : {};
  return [
    { label: 'natural', config: { type: 'natural' }, everyLocation: false },
    ...[1, 5, 10, 20].map((k) => ({ label: `random(${k})`, config: { type: 'random', k, ...m } as StrategyConfig, everyLocation: false })),
    ...[10, 20].map((k) => ({ label: `guided(${k})`, config: { type: 'guided', k } as StrategyConfig, everyLocation: false })),
    { label: 'Pool 2', config: { type: 'pooled', neighbor: [2] } as StrategyConfig, everyLocation: true },
    { label: 'Pool 4', config: { type: 'pooled', neighbor: [4] } as StrategyConfig, everyLocation: true },
    { label: 'Pool 2-2', config: { type: 'pooled', neighbor: [2, 1, 2] } as StrategyConfig, everyLocation: true },
    { label: 'all-patch', config: { type: 'all', ...m } as StrategyConfig, everyLocation: true },
  ];
}

/** The threat every strategy row trains against: a 2×2 square patch, as in the paper's 2×2 tables. */
export const PATCH_2X2: Threat = makeThreat({ type: 'patch', size: 2 });

/** CIFAR-10 per-channel normalization of the reference (Table 2 models). */
export const CIFAR_NORMALIZATION: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };

/**
 * Builds a row's strategy through the trainers registry, exactly as `train()` would for a config
 * naming it.
 *
 * @returns the strategy, or the reason it is not available (e.g. pooled before @patchcert/pooling
 *   registers it).
 */
export async function buildStrategy(
  row: StrategyRow,
  model: SequentialModel,
  dataset: 'mnist' | 'cifar10',
  architecture: string,
  lr: number,
): Promise<{ strategy: MarginStrategy } | { unavailable: string }> {
  try {
    const config = parseTrainConfig(
      { dataset, architecture, threat: { type: 'patch', size: 2 }, strategy: row.config, epochs: 1, lr, schedule: { start: 0, length: 1 } },
      'benchmark',
    );
    return { strategy: await createStrategy(config.strategy, { threat: PATCH_2X2, model, config, rng: new Rng(1) }) };
  } catch (err) {
    return { unavailable: err instanceof Error ? err.message : String(err) };
  }
}

/** What one training step needs. */
export interface StepState {
  model: SequentialModel;
  adam: Adam;
  strategy: MarginStrategy;
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  rng: Rng;
}

/**
 * One certificate-training step as `train()` takes it: margins inside `variableGrads`, Adam, the
 * strategy's `afterStep` (guided: the U-Net fit), then the loss read back so all backend work is
 * timed.
 *
 * @returns the loss.
 */
export function trainingStep(s: StepState, eps: number, lr: number): number {
  const ctx: MarginStrategyContext = { model: s.model, images: s.x, labels: s.y, eps, rng: s.rng, training: true, threat: PATCH_2X2, lr, epoch: 0 };
  const { value, grads } = tf.variableGrads(() => certificateLoss(s.strategy.margins(ctx), s.y), s.model.trainableVariables());
  s.adam.step(grads, lr);
  s.strategy.afterStep?.(ctx);
  const loss = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return loss;
}
