import { PatchcertError, tf, mustBe, type Rng } from '@patchcert/backend';
import { randomCropFlip, type AugmentOptions } from './augment.js';
import type { ImageDataset } from './dataset.js';
import { withDefaults } from './internal/options.js';

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Images per batch; the last batch is smaller when the count does not divide (no drop). */
  batchSize: number;
  /**
   * Visit the images in a random order drawn from `rng` when iteration starts.
   * @defaultValue false
   */
  shuffle?: boolean;
  /**
   * The generator for shuffling and augmentation; required when either is on, so every random
   * choice is seeded by the caller.
   * @defaultValue undefined
   */
  rng?: Rng;
  /**
   * Random flip + padded crop per image (`true` for the CIFAR defaults, see {@link DEFAULT_AUGMENT}).
   * @defaultValue false
   */
  augment?: boolean | AugmentOptions;
}

/** The defaults {@link batches} merges the caller's options over. */
export const DEFAULT_BATCH_OPTIONS: Readonly<Required<Pick<BatchOptions, 'shuffle' | 'augment'>>> = { shuffle: false, augment: false };

/** One batch: float32 pixel images in [0,1], int32 labels and the dataset indices used. */
export interface Batch {
  /** `[batch, height, width, channels]`, pixel space (not normalized). */
  x: tf.Tensor4D;
  /** `[batch]` class indices. */
  y: tf.Tensor1D;
  /** Which dataset items are in the batch, in batch order. */
  indices: Int32Array;
}

const TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

function checkDataset(fn: string, ds: ImageDataset): number {
  const [h, w, c] = ds.shape;
  const size = h * w * c;
  if (ds.images.length !== ds.count * size || ds.labels.length !== ds.count) {
    throw new PatchcertError(
      'SHAPE_MISMATCH',
      mustBe(fn, 'the dataset', `count*H*W*C = ${ds.count * size} image bytes and ${ds.count} labels`, `${ds.images.length} and ${ds.labels.length}`),
    );
  }
  return size;
}

function gather(ds: ImageDataset, indices: Int32Array, size: number): Uint8Array {
  const out = new Uint8Array(indices.length * size);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    out.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
  }
  return out;
}

function toTensors(ds: ImageDataset, indices: Int32Array, bytes: Uint8Array): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const pixels = new Float32Array(bytes.length);
  for (let p = 0; p < bytes.length; p++) pixels[p] = TO_UNIT[bytes[p]!]!;
  const labels = new Int32Array(indices.length);
  for (let k = 0; k < indices.length; k++) labels[k] = ds.labels[indices[k]!]!;
  const [h, w, c] = ds.shape;
  return { x: tf.tensor4d(pixels, [indices.length, h, w, c], 'float32'), y: tf.tensor1d(labels, 'int32') };
}

/**
 * Iterates over a dataset in batches of float32 pixel tensors, optionally shuffled and
 * augmented. Each batch's tensors belong to the caller, who disposes them (or runs the loop
 * body in `tf.tidy`). The generator is lazy: the shuffle order is drawn on the first `next()`.
 *
 * @example
 * const ds = await loadDataset('mnist', { split: 'train' });
 * for (const { x, y } of batches(ds, { batchSize: 256, shuffle: true, rng: new Rng(0) })) {
 *   // train on x [256, 28, 28, 1] and y [256]
 *   tf.dispose([x, y]);
 * }
 * @throws PatchcertError INVALID_OPTION for a bad batch size or a missing `rng`
 */
export function batches(ds: ImageDataset, options: BatchOptions): Generator<Batch, void, undefined> {
  const fn = 'batches';
  const { batchSize, shuffle, rng, augment } = withDefaults(DEFAULT_BATCH_OPTIONS, options);
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new PatchcertError('INVALID_OPTION', mustBe(fn, 'options.batchSize', 'an integer >= 1', String(batchSize)));
  }
  if ((shuffle || augment) && rng === undefined) {
    throw new PatchcertError('INVALID_OPTION', mustBe(fn, 'options.rng', 'an Rng when shuffle or augment is on', 'undefined'));
  }
  const size = checkDataset(fn, ds);
  const augmentOptions = augment === true ? {} : augment === false ? undefined : augment;
  return (function* () {
    let order: Int32Array;
    if (shuffle) order = rng!.permutation(ds.count);
    else order = Int32Array.from({ length: ds.count }, (_, i) => i);
    for (let start = 0; start < ds.count; start += batchSize) {
      const indices = order.slice(start, Math.min(start + batchSize, ds.count));
      let bytes = gather(ds, indices, size);
      if (augmentOptions) bytes = randomCropFlip(bytes, indices.length, ds.shape, rng!, augmentOptions).images;
      yield { ...toTensors(ds, indices, bytes), indices };
    }
  })();
}

/**
 * The whole dataset, or the items at `indices`, as one pair of tensors (caller disposes).
 *
 * @returns `x` `[n, height, width, channels]` float32 pixels in [0,1], `y` `[n]` int32
 * @throws PatchcertError INVALID_ARGUMENT when an index is out of range
 */
export function datasetTensors(ds: ImageDataset, indices?: ArrayLike<number>): { x: tf.Tensor4D; y: tf.Tensor1D } {
  const fn = 'datasetTensors';
  const size = checkDataset(fn, ds);
  const idx = indices === undefined ? Int32Array.from({ length: ds.count }, (_, i) => i) : Int32Array.from(indices);
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (!(i >= 0 && i < ds.count) || (indices !== undefined && idx[k] !== indices[k])) {
      throw new PatchcertError('INVALID_ARGUMENT', mustBe(fn, `indices[${k}]`, `an integer in [0, ${ds.count - 1}]`, String(indices?.[k])));
    }
  }
  return toTensors(ds, idx, gather(ds, idx, size));
}
