import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';

/** Checks pixel images are a rank-4 tensor. */
export function checkImages(images: tf.Tensor, fn: string): asserts images is tf.Tensor4D {
  assert(images instanceof tf.Tensor && images.rank === 4,
    () => `Error in ${fn}: images must be a tensor [batch, height, width, channels], but got ${images instanceof tf.Tensor ? `shape [${images.shape}]` : typeof images}.`, 'SHAPE_MISMATCH');
}

/** Checks images match the model's input shape. */
export function checkModelImages(model: SequentialModel, images: tf.Tensor, fn: string): asserts images is tf.Tensor4D {
  checkImages(images, fn);
  const [h, w, c] = model.metadata.inputShape;
  assert(images.shape[1] === h && images.shape[2] === w && images.shape[3] === c,
    () => `Error in ${fn}: images must be [batch, ${h}, ${w}, ${c}] for this model, but got [${images.shape}].`, 'SHAPE_MISMATCH');
}

/** Checks a schedule value. */
export function checkEps(eps: number, fn: string): void {
  assert(typeof eps === 'number' && Number.isFinite(eps) && eps >= 0,
    () => `Error in ${fn}: eps must be a finite number ≥ 0, but got ${eps}.`, 'INVALID_OPTION');
}
