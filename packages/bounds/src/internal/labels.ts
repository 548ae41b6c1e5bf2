import { tf, assert, PatchcertError } from '@patchcert/backend';

/** Labels as callers give them: an int tensor `[batch]` or a plain array. */
export type LabelsLike = tf.Tensor1D | Int32Array | Uint8Array | readonly number[];

/**
 * Reads labels into an Int32Array and checks their count and range.
 * @throws PatchcertError `SHAPE_MISMATCH` (count) or `INVALID_ARGUMENT` (range).
 */
export function labelArray(labels: LabelsLike, batch: number, classes: number, fn: string): Int32Array {
  let arr: Int32Array;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) {
      throw new PatchcertError('SHAPE_MISMATCH', `Error in ${fn}: labels must be a 1-D tensor [batch], but got shape [${labels.shape}].`);
    }
    arr = Int32Array.from(labels.dataSync() as ArrayLike<number>);
  } else {
    arr = Int32Array.from(labels as ArrayLike<number>);
  }
  assert(arr.length === batch, () => `Error in ${fn}: labels must have one entry per image (${batch}), but got ${arr.length}.`, 'SHAPE_MISMATCH');
  for (let i = 0; i < arr.length; i++) {
    const y = arr[i]!;
    assert(Number.isInteger(y) && y >= 0 && y < classes, () => `Error in ${fn}: labels must be integers in [0, ${classes - 1}], but got ${y} at index ${i}.`);
  }
  return arr;
}

/** One-hot float32 `[batch, classes]` of the labels (a constant: nothing differentiates it). */
export function oneHotLabels(labels: Int32Array, classes: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), classes), 'float32') as tf.Tensor2D);
}
