import type { tf } from '@patchcert/backend';

/**
 * What an attack needs from a model: logits for pixel-space images. `SequentialModel` from
 * `@patchcert/models` fits it as is; a hand-built function fits it too, which keeps the attacks
 * testable without a trained network.
 */
export interface Classifier {
  /**
   * Logits `[batch, classes]` for pixel-space images `[batch, height, width, channels]` in [0,1].
   * Must be differentiable with respect to its input (attacks take gradients through it).
   */
  predict(pixels: tf.Tensor4D): tf.Tensor2D;
}
