import type { tf } from '@patchcert/backend';

/**
 * A pre-processing defense: an image-to-image map applied before the classifier. The defended
 * model is `model.predict(defense.apply(x))`.
 *
 * `apply` must be usable inside `tf.grad`: either differentiable (LGS) or given a surrogate
 * gradient (DW uses BPDA, the identity on the backward pass), so adaptive attacks can optimise
 * through it.
 */
export interface Defense {
  /** Short name used in tables (`LGS`, `DW`). */
  readonly name: string;
  /** Defended images `[batch, height, width, channels]` in [0,1] for pixel-space input of the same shape. */
  apply(x: tf.Tensor4D): tf.Tensor4D;
}
