import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { idxSplitFiles, parseIdx, readIdxDirectory, readIdxFile, readIdxImages } from '@patchcert/datasets';
import { put, throwsCode, tmp } from './helpers.js';

/** Builds an IDX ubyte file. */
function idx(dims: number[], data: Uint8Array, magic = 0x0800 + dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const pixels = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);

const parse = suite('parseIdx');

parse('should read dims and values of a 3-d ubyte file', () => {
  const a = parseIdx(idx([3, 2, 2], pixels), 'x');
  assert.equal(a.dims, [3, 2, 2]);
  assert.equal(Array.from(a.data), Array.from(pixels));
});

parse('should throw DATA_FORMAT naming the file for a wrong magic number', async () => {
  await throwsCode(() => parseIdx(idx([3, 2, 2], pixels, 0x0d03), 'bad-file', 3), 'DATA_FORMAT', /bad-file.*0x00000803.*0x00000d03/);
});

parse('should throw DATA_FORMAT for a dimension count other than expected', async () => {
  await throwsCode(() => parseIdx(idx([12], pixels), 'labels-as-images', 3), 'DATA_FORMAT', /labels-as-images/);
});

parse('should throw DATA_FORMAT for a truncated file', async () => {
  const full = idx([3, 2, 2], pixels);
  await throwsCode(() => parseIdx(full.subarray(0, full.length - 1), 'short'), 'DATA_FORMAT', /12 bytes.*11 bytes \(truncated\)/);
  await throwsCode(() => parseIdx(full.subarray(0, 10), 'header'), 'DATA_FORMAT', /header/);
  await throwsCode(() => parseIdx(new Uint8Array(2), 'tiny'), 'DATA_FORMAT', /tiny/);
});

parse('should throw DATA_FORMAT for trailing bytes', async () => {
  const full = idx([3, 2, 2], pixels);
  const longer = new Uint8Array(full.length + 3);
  longer.set(full);
  await throwsCode(() => parseIdx(longer, 'long'), 'DATA_FORMAT', /trailing/);
});

parse.run();

// ---

const read = suite('readIdxFile');

read('should read plain and gzipped files alike', () => {
  const dir = tmp();
  const plain = put(dir, 'a-idx3-ubyte', idx([3, 2, 2], pixels));
  const gz = put(dir, 'a-idx3-ubyte.gz', gzipSync(idx([3, 2, 2], pixels)));
  assert.equal(Array.from(readIdxFile(plain, 3).data), Array.from(pixels));
  assert.equal(Array.from(readIdxFile(gz, 3).data), Array.from(pixels));
});

read('should throw DATA_FORMAT naming a truncated .gz file', async () => {
  const dir = tmp();
  const z = gzipSync(idx([3, 2, 2], pixels));
  const gz = put(dir, 'cut-idx3-ubyte.gz', z.subarray(0, z.length - 6));
  await throwsCode(() => readIdxFile(gz, 3), 'DATA_FORMAT', /cut-idx3-ubyte\.gz.*gzip/);
});

read('should throw FILE_NOT_FOUND for a missing file', async () => {
  await throwsCode(() => readIdxFile(join(tmp(), 'nope')), 'FILE_NOT_FOUND', /nope/);
});

read.run();

// ---

const files = suite('idxSplitFiles');

files('should find train and t10k files, preferring plain over .gz', () => {
  const dir = tmp();
  put(dir, 'train-images-idx3-ubyte', 'x');
  put(dir, 'train-labels-idx1-ubyte.gz', 'x');
  put(dir, 't10k-images.idx3-ubyte', 'x');
  put(dir, 't10k-labels-idx1-ubyte', 'x');
  assert.equal(idxSplitFiles(dir, 'train'), {
    images: join(dir, 'train-images-idx3-ubyte'),
    labels: join(dir, 'train-labels-idx1-ubyte.gz'),
  });
  assert.is(idxSplitFiles(dir, 'test').images, join(dir, 't10k-images.idx3-ubyte'));
});

files('should throw FILE_NOT_FOUND listing the names tried for a missing split', async () => {
  const dir = tmp();
  put(dir, 'train-images-idx3-ubyte', 'x');
  put(dir, 'train-labels-idx1-ubyte', 'x');
  await throwsCode(() => idxSplitFiles(dir, 'test'), 'FILE_NOT_FOUND', /t10k-images-idx3-ubyte\.gz/);
});

files.run();

// ---

const images = suite('readIdxImages');

function writeSet(labels: number[], imageCount = labels.length): { images: string; labels: string } {
  const dir = tmp();
  const px = Uint8Array.from({ length: imageCount * 4 }, (_, i) => (i * 7) & 255);
  return {
    images: put(dir, 'train-images-idx3-ubyte', idx([imageCount, 2, 2], px)),
    labels: put(dir, 'train-labels-idx1-ubyte', idx([labels.length], Uint8Array.from(labels))),
  };
}

images('should return NHWC bytes with one channel and the labels', () => {
  const raw = readIdxImages(writeSet([3, 1, 4]), 10);
  assert.is(raw.count, 3);
  assert.equal(raw.shape, [2, 2, 1]);
  assert.equal(Array.from(raw.labels), [3, 1, 4]);
  assert.is(raw.images[5], 35);
});

images('should throw DATA_FORMAT when image and label counts differ', async () => {
  await throwsCode(() => readIdxImages(writeSet([1, 2], 3), 10), 'DATA_FORMAT', /label count.*3 \(the image count.*but got 2/);
});

images('should throw DATA_FORMAT naming the index of an out-of-range label', async () => {
  await throwsCode(() => readIdxImages(writeSet([1, 2, 10]), 10), 'DATA_FORMAT', /label 2 of .*train-labels-idx1-ubyte.*\[0, 9\].*10/);
});

images('should throw DATA_FORMAT when labels are given as images', async () => {
  const set = writeSet([1, 2]);
  await throwsCode(() => readIdxImages({ images: set.labels, labels: set.images }, 10), 'DATA_FORMAT', /magic number/);
});

images.run();

// ---

const dirs = suite('readIdxDirectory');

dirs('should read a gzipped MNIST-layout directory', () => {
  const dir = tmp();
  put(dir, 't10k-images-idx3-ubyte.gz', gzipSync(idx([3, 2, 2], pixels)));
  put(dir, 't10k-labels-idx1-ubyte.gz', gzipSync(idx([3], Uint8Array.from([9, 0, 5]))));
  const raw = readIdxDirectory(dir, 'test', 10);
  assert.equal(Array.from(raw.labels), [9, 0, 5]);
  assert.equal(Array.from(raw.images), Array.from(pixels));
});

dirs.run();
