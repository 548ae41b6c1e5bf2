import { tf, PatchcertError } from '@patchcert/backend';
import { describe } from '../patch-geometry.js';

/** Checks a pixel-space image batch `[batch, height, width, channels]`. */
export function checkImages(images: unknown, fn: string): asserts images is tf.Tensor4D {
  if (!(images instanceof tf.Tensor) || images.rank !== 4) {
    const got = images instanceof tf.Tensor ? `a rank-${images.rank} tensor of shape [${images.shape}]` : describe(images);
    throw new PatchcertError('SHAPE_MISMATCH', `Error in ${fn}: images must be a rank-4 tensor [batch, height, width, channels], but got ${got}.`);
  }
  if (images.shape[0] === 0) throw new PatchcertError('SHAPE_MISMATCH', `Error in ${fn}: images must hold at least one image, but got batch 0.`);
  if (images.dtype !== 'float32') throw new PatchcertError('INVALID_ARGUMENT', `Error in ${fn}: images must be float32 pixels in [0,1], but got dtype ${images.dtype}.`);
}

/** Reads labels (tensor or array) into an Int32Array of length `batch`, checking range. */
export function readLabels(labels: unknown, batch: number, numClasses: number | undefined, fn: string, what = 'labels'): Int32Array {
  let arr: ArrayLike<number>;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1) throw new PatchcertError('SHAPE_MISMATCH', `Error in ${fn}: ${what} must be a rank-1 tensor [batch], but got shape [${labels.shape}].`);
    arr = labels.dataSync() as ArrayLike<number>;
  } else if (labels !== null && typeof labels === 'object' && typeof (labels as ArrayLike<number>).length === 'number') {
    arr = labels as ArrayLike<number>;
  } else {
    throw new PatchcertError('INVALID_ARGUMENT', `Error in ${fn}: ${what} must be a tensor or array of class indices, but got ${describe(labels)}.`);
  }
  if (arr.length !== batch) throw new PatchcertError('SHAPE_MISMATCH', `Error in ${fn}: ${what} must have one entry per image (${batch}), but got ${arr.length}.`);
  const out = new Int32Array(batch);
  for (let i = 0; i < batch; i++) {
    const v = arr[i]!;
    if (!Number.isInteger(v) || v < 0 || (numClasses !== undefined && v >= numClasses)) {
      throw new PatchcertError('INVALID_ARGUMENT', `Error in ${fn}: ${what}[${i}] must be a class index in [0, ${numClasses ?? '∞'}), but got ${v}.`);
    }
    out[i] = v;
  }
  return out;
}

/** Checks an integer option. */
export function checkInt(v: unknown, name: string, min: number, fn: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: ${name} must be an integer >= ${min}, but got ${describe(v)}.`);
  }
  return v;
}

/** Checks a finite number option within [min, max]. */
export function checkNumber(v: unknown, name: string, min: number, max: number, fn: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: ${name} must be a number in [${min}, ${max}], but got ${describe(v)}.`);
  }
  return v;
}

/** Rejects option keys the function does not know (catches typos such as `restart`). */
export function checkKeys(opts: object, known: readonly string[], fn: string): void {
  for (const k of Object.keys(opts)) {
    if (!known.includes(k)) {
      throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: options must be among {${known.join(', ')}}, but got unknown option '${k}'.`);
    }
  }
}

/** Drops `undefined` fields so they do not override defaults in a spread. */
export function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
