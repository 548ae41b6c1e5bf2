import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { c as tarCreate } from 'tar';
import { env } from '@patchcert/backend';
import { DATASETS, datasetCacheDir, datasetInfo, loadDataset, subsetIndices } from '@patchcert/datasets';
import { encodeJpeg, encodePng, isolateCache, pattern, put, throwsCode, tmp } from './helpers.js';

function stats(images: Uint8Array): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < images.length; i++) {
    const v = images[i]! / 255;
    s += v;
    s2 += v * v;
  }
  const mean = s / images.length;
  return { mean, std: Math.sqrt(s2 / images.length - mean * mean) };
}

const cacheFiles = () => (existsSync(datasetCacheDir()) ? readdirSync(datasetCacheDir()) : []);

/** A CIFAR-shaped image folder: 10 classes × `per` 32×32 JPEGs in train and test. */
function writeCifarFolder(root: string, per = 2, classes = DATASETS.cifar10.classNames): void {
  let n = 0;
  for (const split of ['train', 'test']) {
    for (const c of classes) for (let i = 0; i < per; i++) put(root, `${split}/${c}/${i}.jpg`, encodeJpeg(pattern(n++, 32, 32, 3), 32, 32, 75));
  }
}

const load = suite('loadDataset');

load.before.each(() => {
  isolateCache();
});

load('should load the embedded MNIST train split with its known first labels and mean pixel', async () => {
  const ds = await loadDataset('mnist');
  assert.is(ds.name, 'mnist');
  assert.is(ds.split, 'train');
  assert.is(ds.count, 60000);
  assert.equal(ds.shape, [28, 28, 1]);
  assert.is(ds.images.length, 60000 * 784);
  assert.equal(Array.from(ds.labels.subarray(0, 10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
  const { mean, std } = stats(ds.images);
  assert.ok(Math.abs(mean - 0.1307) < 5e-4, `mean ${mean}`);
  assert.ok(Math.abs(std - 0.3081) < 5e-4, `std ${std}`);
  assert.equal(ds.normalization, { mean: [0], std: [1] });
  assert.equal(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(cacheFiles(), [], 'plain IDX is already raw bytes and is not cached');
});

load('should load the embedded MNIST test split with its known first labels', async () => {
  const ds = await loadDataset('mnist', { split: 'test' });
  assert.is(ds.count, 10000);
  assert.equal(Array.from(ds.labels.subarray(0, 10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  assert.ok(Math.abs(stats(ds.images).mean - 0.1325) < 5e-4);
  const counts = new Array<number>(10).fill(0);
  ds.labels.forEach((l) => counts[l]!++);
  assert.equal(counts, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
});

load('should cut the first N with limit and a seeded sample with sample', async () => {
  const full = await loadDataset('mnist', { split: 'test' });
  const first = await loadDataset('mnist', { split: 'test', limit: 100 });
  assert.is(first.count, 100);
  assert.equal(Array.from(first.labels), Array.from(full.labels.subarray(0, 100)));
  assert.equal(Array.from(first.images), Array.from(full.images.subarray(0, 100 * 784)));
  const s1 = await loadDataset('mnist', { split: 'test', sample: 50, seed: 4 });
  const s2 = await loadDataset('mnist', { split: 'test', sample: 50, seed: 4 });
  const picks = subsetIndices(10000, { sample: 50, seed: 4 })!;
  assert.equal(Array.from(s1.labels), Array.from(s2.labels));
  assert.equal(Array.from(s1.labels), Array.from(picks, (i) => full.labels[i]!));
  assert.equal(Array.from(s1.images.subarray(784 * 49)), Array.from(full.images.subarray(784 * picks[49]!, 784 * (picks[49]! + 1))));
});

load('should load Fashion-MNIST from the Debian package with known labels, and cache the gunzipped split', async () => {
  if (!existsSync('/usr/share/datasets/fashion-mnist')) {
    console.log('[skip] Fashion-MNIST is not installed (apt install dataset-fashion-mnist)');
    return;
  }
  const t0 = performance.now();
  const train = await loadDataset('fashion-mnist');
  const cold = performance.now() - t0;
  assert.is(train.count, 60000);
  assert.equal(train.shape, [28, 28, 1]);
  assert.equal(Array.from(train.labels.subarray(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
  assert.ok(Math.abs(stats(train.images).mean - 0.2860) < 5e-4);
  assert.is(train.classNames[9], 'Ankle boot');
  assert.is(cacheFiles().filter((f) => f.endsWith('.pcds')).length, 1);
  const t1 = performance.now();
  const again = await loadDataset('fashion-mnist');
  const warm = performance.now() - t1;
  assert.ok(Buffer.from(again.images).equals(Buffer.from(train.images)));
  assert.ok(Buffer.from(again.labels).equals(Buffer.from(train.labels)));
  console.log(`  fashion-mnist train: cold ${cold.toFixed(0)} ms, cached ${warm.toFixed(0)} ms`);
  const test = await loadDataset('fashion-mnist', { split: 'test' });
  assert.is(test.count, 10000);
  assert.equal(Array.from(test.labels.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
});

load('should read CIFAR-10 from .bin batches in root with the CIFAR normalization', async () => {
  const root = tmp();
  const rec = new Uint8Array(2 * 3073);
  rec[0] = 3;
  rec[3073] = 8;
  rec[3073 + 1 + 2048] = 77; // blue plane, pixel 0 of image 1
  put(root, 'cifar-10-batches-bin/test_batch.bin', rec);
  const ds = await loadDataset('cifar10', { split: 'test', root });
  assert.is(ds.count, 2);
  assert.equal(Array.from(ds.labels), [3, 8]);
  assert.is(ds.images[3072 + 2], 77);
  assert.equal(ds.normalization, { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] });
  assert.is(ds.classNames[0], 'airplane');
});

load('should read CIFAR-10 from an image-folder tarball given as root', async () => {
  const src = tmp();
  writeCifarFolder(src);
  const archive = join(tmp(), 'cifar-small.tar.gz');
  await tarCreate({ gzip: true, file: archive, cwd: src }, ['train', 'test']);
  const ds = await loadDataset('cifar10', { split: 'train', root: archive });
  assert.is(ds.count, 20);
  assert.equal(ds.shape, [32, 32, 3]);
  assert.equal(Array.from(ds.labels.subarray(0, 4)), [0, 0, 1, 1]);
  assert.equal(ds.normalization.mean, [0.4914, 0.4822, 0.4465]);
});

load('should throw DATA_FORMAT when a CIFAR-10 folder has other classes', async () => {
  const src = tmp();
  writeCifarFolder(src, 1, ['cat', 'dog']);
  await throwsCode(() => loadDataset('cifar10', { root: src }), 'DATA_FORMAT', /class folders.*airplane.*but got cat, dog/);
});

load('should find the shared CIFAR-10 JPEG copy by default and decode only a sample', async () => {
  const ds = await loadDataset('cifar10', { split: 'test', sample: 30, seed: 2 });
  assert.is(ds.count, 30);
  assert.equal(ds.shape, [32, 32, 3]);
  assert.is(ds.images.length, 30 * 3072);
  const picks = subsetIndices(10000, { sample: 30, seed: 2 })!;
  // 1000 test images per class, sorted by class.
  assert.equal(Array.from(ds.labels), Array.from(picks, (i) => Math.floor(i / 1000)));
  const { mean } = stats(ds.images);
  assert.ok(mean > 0.3 && mean < 0.65, `mean ${mean}`);
  assert.equal(cacheFiles(), [], 'a subset decode writes no cache');
});

load('should load folder:<path> with its own classes and identity normalization', async () => {
  const root = tmp();
  put(root, 'train/x/0.png', encodePng(pattern(0, 3, 3, 1), 3, 3, 1));
  put(root, 'train/y/0.png', encodePng(pattern(1, 3, 3, 1), 3, 3, 1));
  const ds = await loadDataset(`folder:${root}`);
  assert.is(ds.name, `folder:${root}`);
  assert.equal(ds.classNames, ['x', 'y']);
  assert.equal(ds.shape, [3, 3, 1]);
  assert.equal(Array.from(ds.images.subarray(9)), Array.from(pattern(1, 3, 3, 1)));
  assert.equal(ds.normalization, { mean: [0], std: [1] });
});

load('should read a full decode back from the cache and re-decode when the source changes', async () => {
  const root = tmp();
  put(root, 'train/a/0.png', encodePng(pattern(0, 4, 4, 3), 4, 4, 3));
  const png1 = put(root, 'train/b/0.png', encodePng(pattern(1, 4, 4, 3), 4, 4, 3));
  const name = `folder:${root}`;
  const first = await loadDataset(name);
  const files = cacheFiles();
  assert.is(files.length, 1);
  assert.ok(!files.some((f) => f.endsWith('.tmp')));
  // Mark the cached copy: a hit must return the marked pixel.
  const file = join(datasetCacheDir(), files[0]!);
  const bytes = readFileSync(file);
  bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 0xff; // a pixel byte of the last image (labels are the last 2 bytes)
  writeFileSync(file, bytes);
  const hit = await loadDataset(name);
  assert.is(hit.images[hit.images.length - 1], first.images[first.images.length - 1]! ^ 0xff);
  const limited = await loadDataset(name, { limit: 1 });
  assert.is(limited.count, 1);
  // A changed mtime is a different source: decoded afresh, correct again.
  utimesSync(png1, new Date(), new Date(Date.now() + 5000));
  const miss = await loadDataset(name);
  assert.equal(Array.from(miss.images), Array.from(first.images));
  assert.is(cacheFiles().length, 2);
});

load('should ignore a damaged cache file and write nothing with cache: false', async () => {
  const root = tmp();
  put(root, 'train/a/0.png', encodePng(pattern(0, 4, 4, 3), 4, 4, 3));
  const name = `folder:${root}`;
  await loadDataset(name, { cache: false });
  assert.equal(cacheFiles(), []);
  const first = await loadDataset(name);
  const file = join(datasetCacheDir(), cacheFiles()[0]!);
  writeFileSync(file, readFileSync(file).subarray(0, 30));
  const again = await loadDataset(name);
  assert.equal(Array.from(again.images), Array.from(first.images));
});

load('should honour env.cacheDir at call time', async () => {
  const root = tmp();
  put(root, 'train/a/0.png', encodePng(pattern(0, 2, 2, 3), 2, 2, 3));
  const dir = tmp();
  env.cacheDir = dir;
  await loadDataset(`folder:${root}`);
  assert.ok(readdirSync(join(dir, 'datasets')).length === 1);
});

load('should throw for unknown names, bad options and missing sources', async () => {
  await throwsCode(() => loadDataset('imagenet'), 'INVALID_ARGUMENT', /'imagenet'/);
  await throwsCode(() => loadDataset('folder:'), 'INVALID_ARGUMENT', /folder:<path>/);
  await throwsCode(() => loadDataset('idx:'), 'INVALID_ARGUMENT', /idx:<directory>/);
  await throwsCode(() => loadDataset(`idx:${join(tmp(), 'gone')}`), 'FILE_NOT_FOUND', /gone/);
  await throwsCode(() => loadDataset('mnist', { split: 'val' as 'train' }), 'INVALID_OPTION', /split/);
  await throwsCode(() => loadDataset('mnist', { limit: 5, sample: 5 }), 'INVALID_OPTION', /exclusive/);
  await throwsCode(() => loadDataset('mnist', { limit: -1 }), 'INVALID_OPTION', /limit/);
  await throwsCode(() => loadDataset('fashion-mnist', { root: join(tmp(), 'none') }), 'FILE_NOT_FOUND', /none/);
  await throwsCode(() => loadDataset('mnist', { root: tmp() }), 'FILE_NOT_FOUND', /train-images-idx3-ubyte/);
  await throwsCode(() => loadDataset(`folder:${join(tmp(), 'gone')}`), 'FILE_NOT_FOUND', /gone/);
  await throwsCode(() => loadDataset('cifar10', { root: join(tmp(), 'gone.tar.gz') }), 'FILE_NOT_FOUND', /gone\.tar\.gz/);
});

load('should throw DATA_FORMAT when a root holds IDX files of another image size', async () => {
  const root = tmp();
  const file = (magic: number, dims: number[], n: number) => {
    const out = Buffer.alloc(4 + 4 * dims.length + n);
    out.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
    return out;
  };
  put(root, 't10k-images-idx3-ubyte', file(0x803, [2, 3, 3], 18));
  put(root, 't10k-labels-idx1-ubyte', file(0x801, [2], 2));
  await throwsCode(() => loadDataset('mnist', { split: 'test', root }), 'DATA_FORMAT', /28x28x1.*3x3x1/);
});

load('should load idx:<directory> with classes counted over both splits', async () => {
  const root = tmp();
  const file = (magic: number, dims: number[], data: number[]) => {
    const out = Buffer.alloc(4 + 4 * dims.length + data.length);
    out.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => out.writeUInt32BE(d, 4 + 4 * i));
    out.set(data, 4 + 4 * dims.length);
    return out;
  };
  put(root, 'train-images-idx3-ubyte', file(0x803, [2, 1, 2], [1, 2, 3, 4]));
  put(root, 'train-labels-idx1-ubyte', file(0x801, [2], [0, 1]));
  put(root, 't10k-images-idx3-ubyte', file(0x803, [1, 1, 2], [9, 8]));
  put(root, 't10k-labels-idx1-ubyte', file(0x801, [1], [4]));
  const train = await loadDataset(`idx:${root}`);
  assert.equal(train.shape, [1, 2, 1]);
  assert.equal(train.classNames, ['0', '1', '2', '3', '4']);
  assert.equal(Array.from(train.images), [1, 2, 3, 4]);
  assert.equal(train.normalization, { mean: [0], std: [1] });
  const test = await loadDataset(`idx:${root}`, { split: 'test' });
  assert.equal(Array.from(test.labels), [4]);
  assert.is(test.classNames.length, 5);
});

load('should treat options set to undefined as left out', async () => {
  const ds = await loadDataset('mnist', { split: undefined, limit: 2, seed: undefined, cache: undefined });
  assert.is(ds.split, 'train');
  assert.equal(Array.from(ds.labels), [5, 0]);
});

load('should return normalization and class names the caller may modify without touching the registry', async () => {
  const ds = await loadDataset('mnist', { split: 'test', limit: 1 });
  ds.normalization.mean[0] = 9;
  ds.classNames[0] = 'zero';
  assert.equal(DATASETS.mnist.normalization.mean, [0]);
  assert.is(DATASETS.mnist.classNames[0], '0');
});

load.run();

// ---

const info = suite('datasetInfo');

info('should describe the built-in datasets', () => {
  assert.equal(datasetInfo('cifar10').shape, [32, 32, 3]);
  assert.equal(datasetInfo('cifar10').normalization.std, [0.2023, 0.1994, 0.201]);
  assert.equal(datasetInfo('fashion-mnist').shape, [28, 28, 1]);
  assert.equal(datasetInfo('mnist').normalization, { mean: [0], std: [1] });
});

info('should throw INVALID_ARGUMENT for an unknown name', async () => {
  await throwsCode(() => datasetInfo('svhn'), 'INVALID_ARGUMENT', /svhn/);
});

info.run();

// ---

const cacheDir = suite('datasetCacheDir');

cacheDir('should live under env.cacheDir', () => {
  env.cacheDir = '/tmp/somewhere';
  assert.is(datasetCacheDir(), '/tmp/somewhere/datasets');
});

cacheDir.run();
