import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { c as tarCreate } from 'tar';
import { readImageFolder } from '@patchcert/datasets';
import { encodeJpeg, encodePng, pattern, put, throwsCode, tmp } from './helpers.js';

const H = 5;
const W = 4;

/** Two splits, classes written in unsorted order; returns the expected images in sorted order. */
function writePngFolder(root: string, channels = 3): { train: Uint8Array[]; labels: number[] } {
  const spec: [string, string, number][] = [
    ['train', 'dog', 2],
    ['train', 'cat', 3],
    ['test', 'cat', 1],
    ['test', 'dog', 1],
  ];
  const byName = new Map<string, Uint8Array>();
  let n = 0;
  for (const [split, cls, count] of spec) {
    for (let i = 0; i < count; i++) {
      const px = pattern(n++, H, W, channels);
      byName.set(`${split}/${cls}/${i}`, px);
      put(root, `${split}/${cls}/img${i}.png`, encodePng(px, H, W, channels));
    }
  }
  put(root, 'train/cat/notes.txt', 'ignored');
  const train = [0, 1, 2].map((i) => byName.get(`train/cat/${i}`)!).concat([0, 1].map((i) => byName.get(`train/dog/${i}`)!));
  return { train, labels: [0, 0, 0, 1, 1] };
}

async function tarGz(root: string, out: string, members = ['train', 'test']): Promise<string> {
  await tarCreate({ gzip: true, file: out, cwd: root }, members);
  return out;
}

function concat(images: Uint8Array[]): number[] {
  return images.flatMap((a) => Array.from(a));
}

const read = suite('readImageFolder');

read('should read a PNG folder exactly, classes sorted, images sorted by class then name', async () => {
  const root = tmp();
  const want = writePngFolder(root);
  const raw = await readImageFolder(root, 'train');
  assert.equal(raw.classNames, ['cat', 'dog']);
  assert.equal(raw.shape, [H, W, 3]);
  assert.is(raw.count, 5);
  assert.equal(Array.from(raw.labels), want.labels);
  assert.equal(Array.from(raw.images), concat(want.train));
});

read('should read the same bytes from a .tar.gz as from the directory', async () => {
  const root = tmp();
  writePngFolder(root);
  const archive = await tarGz(root, join(tmp(), 'set.tar.gz'));
  const fromDir = await readImageFolder(root, 'train');
  const fromTar = await readImageFolder(archive, 'train');
  assert.equal(fromTar.classNames, fromDir.classNames);
  assert.equal(Array.from(fromTar.labels), Array.from(fromDir.labels));
  assert.equal(Array.from(fromTar.images), Array.from(fromDir.images));
  const test = await readImageFolder(archive, 'test');
  assert.equal(Array.from(test.labels), [0, 1]);
});

read('should keep one channel when every image is a grayscale PNG', async () => {
  const root = tmp();
  const want = writePngFolder(root, 1);
  const raw = await readImageFolder(root, 'train');
  assert.equal(raw.shape, [H, W, 1]);
  assert.equal(Array.from(raw.images), concat(want.train));
});

read('should decode JPEGs close to the encoded pixels, mixed with PNGs', async () => {
  const root = tmp();
  const smooth = (k: number) => Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) => 40 + k * 30 + (((i / 3) | 0) % 16) * 4 + (i % 3) * 10);
  put(root, 'train/a/0.jpg', encodeJpeg(smooth(0), 16, 16, 95));
  put(root, 'train/a/1.png', encodePng(smooth(1), 16, 16, 3));
  put(root, 'train/b/0.jpeg', encodeJpeg(smooth(2), 16, 16, 95));
  const raw = await readImageFolder(root, 'train');
  assert.equal(raw.shape, [16, 16, 3]);
  assert.equal(Array.from(raw.labels), [0, 0, 1]);
  const err = (k: number, img: number) => {
    const want = smooth(k);
    let s = 0;
    for (let i = 0; i < want.length; i++) s += Math.abs(raw.images[img * want.length + i]! - want[i]!);
    return s / want.length;
  };
  assert.ok(err(0, 0) < 3, `jpeg error ${err(0, 0)}`);
  assert.is(err(1, 1), 0);
  assert.ok(err(2, 2) < 3, `jpeg error ${err(2, 2)}`);
});

read('should decode only the picked images', async () => {
  const root = tmp();
  const want = writePngFolder(root);
  let seen = -1;
  const raw = await readImageFolder(root, 'train', { pick: (n) => ((seen = n), Int32Array.from([4, 1])) });
  assert.is(seen, 5);
  assert.is(raw.count, 2);
  assert.equal(Array.from(raw.labels), [1, 0]);
  assert.equal(Array.from(raw.images), concat([want.train[4]!, want.train[1]!]));
});

read('should give class indices from the union of both splits', async () => {
  const root = tmp();
  put(root, 'train/ant/0.png', encodePng(pattern(0, 2, 2, 3), 2, 2, 3));
  put(root, 'train/bee/0.png', encodePng(pattern(1, 2, 2, 3), 2, 2, 3));
  put(root, 'test/bee/0.png', encodePng(pattern(2, 2, 2, 3), 2, 2, 3));
  const test = await readImageFolder(root, 'test');
  assert.equal(test.classNames, ['ant', 'bee']);
  assert.equal(Array.from(test.labels), [1]);
});

read('should throw DATA_FORMAT naming an image of the wrong size', async () => {
  const root = tmp();
  writePngFolder(root);
  put(root, 'train/dog/img9.png', encodePng(pattern(0, 6, W, 3), 6, W, 3));
  await throwsCode(() => readImageFolder(root, 'train'), 'DATA_FORMAT', /train\/dog\/img9\.png.*5x4.*6x4/);
  const archive = await tarGz(root, join(tmp(), 'bad.tar.gz'));
  await throwsCode(() => readImageFolder(archive, 'train'), 'DATA_FORMAT', /bad\.tar\.gz:train\/dog\/img9\.png/);
});

read('should throw DATA_FORMAT naming an image that is neither PNG nor JPEG', async () => {
  const root = tmp();
  writePngFolder(root);
  put(root, 'train/cat/broken.png', 'not an image');
  await throwsCode(() => readImageFolder(root, 'train'), 'DATA_FORMAT', /broken\.png.*PNG or JPEG/);
});

read('should throw DATA_FORMAT for a truncated JPEG', async () => {
  const root = tmp();
  const jpg = encodeJpeg(pattern(0, 16, 16, 3), 16, 16);
  put(root, 'train/a/cut.jpg', jpg.subarray(0, jpg.length >> 1));
  await throwsCode(() => readImageFolder(root, 'train'), 'DATA_FORMAT', /cut\.jpg.*JPEG/);
});

read('should throw DATA_FORMAT for a truncated PNG', async () => {
  const root = tmp();
  const png = encodePng(pattern(0, 16, 16, 3), 16, 16, 3);
  put(root, 'train/a/cut.png', png.subarray(0, png.length - 20));
  await throwsCode(() => readImageFolder(root, 'train'), 'DATA_FORMAT', /cut\.png.*PNG/);
});

read('should throw DATA_FORMAT for a truncated .tar.gz, returning nothing', async () => {
  const root = tmp();
  writePngFolder(root);
  const archive = await tarGz(root, join(tmp(), 'whole.tar.gz'));
  const bytes = readFileSync(archive);
  const cut = join(tmp(), 'cut.tar.gz');
  writeFileSync(cut, bytes.subarray(0, bytes.length - 40));
  await throwsCode(() => readImageFolder(cut, 'train'), 'DATA_FORMAT', /cut\.tar\.gz/);
});

read('should throw FILE_NOT_FOUND for a missing split, in a directory and in an archive', async () => {
  const root = tmp();
  put(root, 'train/a/0.png', encodePng(pattern(0, 2, 2, 3), 2, 2, 3));
  await throwsCode(() => readImageFolder(root, 'test'), 'FILE_NOT_FOUND', /'test\/'/);
  const archive = await tarGz(root, join(tmp(), 'only-train.tar.gz'), ['train']);
  await throwsCode(() => readImageFolder(archive, 'test'), 'FILE_NOT_FOUND', /only-train\.tar\.gz.*test\//);
});

read('should throw FILE_NOT_FOUND for a missing source and DATA_FORMAT for an empty split', async () => {
  await throwsCode(() => readImageFolder(join(tmp(), 'absent'), 'train'), 'FILE_NOT_FOUND', /absent/);
  const root = tmp();
  put(root, 'train/a/readme.txt', 'no images');
  await throwsCode(() => readImageFolder(root, 'train'), 'DATA_FORMAT', /at least one/);
});

read('should throw DATA_FORMAT when images differ from a required shape', async () => {
  const root = tmp();
  writePngFolder(root);
  await throwsCode(() => readImageFolder(root, 'train', { shape: [32, 32, 3] }), 'DATA_FORMAT', /32x32.*5x4/);
});

read.run();
