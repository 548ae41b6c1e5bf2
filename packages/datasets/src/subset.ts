import { PatchcertError, Rng, mustBe } from '@patchcert/backend';
import type { ImageDataset } from './dataset.js';

/** How to cut a subset; see {@link LoadDatasetOptions}. */
export interface SubsetOptions {
  /** Keep the first `limit` items. @defaultValue undefined */
  limit?: number;
  /** Keep `sample` items drawn at random with `seed`, in their original order. @defaultValue undefined */
  sample?: number;
  /** Seed of `sample`. @defaultValue 0 */
  seed?: number;
}

function checkCount(fn: string, name: string, v: number | undefined): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 1)) {
    throw new PatchcertError('INVALID_OPTION', mustBe(fn, name, 'an integer >= 1', String(v)));
  }
}

/**
 * The indices a subset keeps out of `count` items, ascending, or `undefined` for all of them.
 * `limit` keeps the first N; `sample` keeps a fixed random N (a prefix of a seeded permutation,
 * sorted), so the same seed always selects the same items. Both are capped at `count`.
 *
 * @throws PatchcertError INVALID_OPTION when a count is not a positive integer or both are given
 */
export function subsetIndices(count: number, options: SubsetOptions, fn = 'subsetIndices'): Int32Array | undefined {
  checkSubsetOptions(options, fn);
  const { limit, sample, seed = 0 } = options;
  if (limit !== undefined) return limit >= count ? undefined : Int32Array.from({ length: limit }, (_, i) => i);
  if (sample !== undefined) {
    if (sample >= count) return undefined;
    return new Rng(seed).permutation(count).slice(0, sample).sort();
  }
  return undefined;
}

/**
 * Validates subset options without selecting anything.
 *
 * @throws PatchcertError INVALID_OPTION when a count is not a positive integer or both are given
 */
export function checkSubsetOptions(options: SubsetOptions, fn = 'subsetIndices'): void {
  const { limit, sample, seed = 0 } = options;
  checkCount(fn, 'options.limit', limit);
  checkCount(fn, 'options.sample', sample);
  if (!Number.isFinite(seed)) throw new PatchcertError('INVALID_OPTION', mustBe(fn, 'options.seed', 'a finite number', String(seed)));
  if (limit !== undefined && sample !== undefined) {
    throw new PatchcertError('INVALID_OPTION', mustBe(fn, 'options.limit and options.sample', 'exclusive (give one)', `both (${limit}, ${sample})`));
  }
}

/**
 * A new dataset holding the items at `indices` (copied, in the given order).
 *
 * @throws PatchcertError INVALID_ARGUMENT when an index is out of range
 */
export function subsetDataset(ds: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const [h, w, c] = ds.shape;
  const size = h * w * c;
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (!(Number.isInteger(i) && i >= 0 && i < ds.count)) {
      throw new PatchcertError('INVALID_ARGUMENT', mustBe('subsetDataset', `indices[${k}]`, `an integer in [0, ${ds.count - 1}]`, String(i)));
    }
    images.set(ds.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = ds.labels[i]!;
  }
  return { ...ds, images, labels, count: indices.length };
}
