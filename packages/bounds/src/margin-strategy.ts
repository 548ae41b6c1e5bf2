import type { tf, Rng } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { ThreatModel } from './threat-model.js';

/** What a strategy sees for one training (or evaluation) batch. */
export interface MarginStrategyContext {
  model: SequentialModel;
  /** Pixel-space images `[batch, height, width, channels]` in [0,1]. */
  images: tf.Tensor4D;
  /** Integer labels `[batch]`. */
  labels: tf.Tensor1D;
  /** Schedule value: patch pixels range over [max(0,x−eps), min(1,x+eps)]. */
  eps: number;
  /** The run's seeded generator; strategies draw all randomness from it. */
  rng: Rng;
  /** True during training steps, false in evaluation passes. */
  training: boolean;
  /** The run's threat model (docs/CONTRACTS.md); strategies built with their own may ignore it. */
  threat?: ThreatModel;
  /** Epoch index (0-based), for strategies with per-epoch state. */
  epoch?: number;
  /** The classifier's current learning rate, for strategies that train a model of their own. */
  lr?: number;
}

/**
 * A certificate-training strategy: which worst-case margins the loss uses. All-patch, random(k),
 * guided(k), pooled and sparse(k) each implement it; the trainer only calls `margins` and then
 * `afterStep`, and checkpoints `getState()`.
 */
export interface MarginStrategy {
  /** Display name, e.g. `random(10)`. */
  readonly name: string;
  /**
   * Lower bounds of the margins z_y − z_j, `[batch, classes]`, minimised over the strategy's
   * locations, with 0 in the y slot. Differentiable w.r.t. the model's variables; called inside
   * `tf.variableGrads`.
   */
  margins(ctx: MarginStrategyContext): tf.Tensor2D;
  /** Work after the model's optimizer step (e.g. the U-Net's own update). */
  afterStep?(ctx: MarginStrategyContext): void;
  /** Serializable state for checkpoints (e.g. U-Net weights and optimizer). */
  getState?(): Promise<Record<string, unknown>>;
  setState?(state: Record<string, unknown>): Promise<void>;
  /** Frees tensors the strategy holds. */
  dispose?(): void;
}
