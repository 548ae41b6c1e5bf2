import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { findCifarBinaryDir, readCifarBinary } from '@patchcert/datasets';
import { pattern, put, throwsCode, tmp } from './helpers.js';

/** Writes records in the official layout: label byte, then the R, G and B 32×32 planes. */
function records(hwc: Uint8Array[], labels: number[]): Uint8Array {
  const out = new Uint8Array(hwc.length * 3073);
  hwc.forEach((img, n) => {
    out[n * 3073] = labels[n]!;
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[n * 3073 + 1 + c * 1024 + p] = img[3 * p + c]!;
  });
  return out;
}

function writeCifar(dir: string, perBatch = 2): { train: Uint8Array[]; trainLabels: number[]; test: Uint8Array[]; testLabels: number[] } {
  const train: Uint8Array[] = [];
  const trainLabels: number[] = [];
  for (let b = 1; b <= 5; b++) {
    const imgs = Array.from({ length: perBatch }, (_, i) => pattern(b * 10 + i, 32, 32, 3));
    const labels = imgs.map((_, i) => (b + i) % 10);
    put(dir, `data_batch_${b}.bin`, records(imgs, labels));
    train.push(...imgs);
    trainLabels.push(...labels);
  }
  const test = [pattern(99, 32, 32, 3), pattern(98, 32, 32, 3), pattern(97, 32, 32, 3)];
  const testLabels = [9, 0, 3];
  put(dir, 'test_batch.bin', records(test, testLabels));
  return { train, trainLabels, test, testLabels };
}

const read = suite('readCifarBinary');

read('should read records back bit-exact in NHWC, batches 1..5 in order', () => {
  const dir = tmp();
  const want = writeCifar(dir);
  const train = readCifarBinary(dir, 'train');
  assert.is(train.count, 10);
  assert.equal(train.shape, [32, 32, 3]);
  assert.equal(Array.from(train.labels), want.trainLabels);
  const expected = new Uint8Array(10 * 3072);
  want.train.forEach((img, n) => expected.set(img, n * 3072));
  assert.ok(Buffer.compare(Buffer.from(train.images), Buffer.from(expected)) === 0);
  const test = readCifarBinary(dir, 'test');
  assert.equal(Array.from(test.labels), want.testLabels);
  assert.equal(Array.from(test.images.subarray(3072, 6144)), Array.from(want.test[1]!));
});

read('should put the red plane in channel 0 (CHW to HWC)', () => {
  const dir = tmp();
  const rec = new Uint8Array(3073);
  rec[0] = 4;
  rec[1 + 5] = 200; // red, pixel (0, 5)
  rec[1 + 1024 + 32] = 100; // green, pixel (1, 0)
  rec[1 + 2048 + 1023] = 50; // blue, pixel (31, 31)
  put(dir, 'test_batch.bin', rec);
  const raw = readCifarBinary(dir, 'test');
  assert.is(raw.images[5 * 3 + 0], 200);
  assert.is(raw.images[32 * 3 + 1], 100);
  assert.is(raw.images[1023 * 3 + 2], 50);
  assert.is(raw.images.reduce((s, v) => s + v, 0), 350);
});

read('should throw DATA_FORMAT naming a truncated batch file', async () => {
  const dir = tmp();
  put(dir, 'test_batch.bin', records([pattern(0, 32, 32, 3)], [1]).subarray(0, 3000));
  await throwsCode(() => readCifarBinary(dir, 'test'), 'DATA_FORMAT', /test_batch\.bin.*multiple of 3073.*3000 bytes/);
});

read('should throw DATA_FORMAT naming the record of a label above 9', async () => {
  const dir = tmp();
  put(dir, 'test_batch.bin', records([pattern(0, 32, 32, 3), pattern(1, 32, 32, 3)], [1, 12]));
  await throwsCode(() => readCifarBinary(dir, 'test'), 'DATA_FORMAT', /record 1 in .*test_batch\.bin.*\[0, 9\].*12/);
});

read('should throw FILE_NOT_FOUND naming a missing batch', async () => {
  const dir = tmp();
  writeCifar(dir);
  const { rmSync } = await import('node:fs');
  rmSync(join(dir, 'data_batch_4.bin'));
  await throwsCode(() => readCifarBinary(dir, 'train'), 'FILE_NOT_FOUND', /data_batch_4\.bin/);
});

read.run();

// ---

const find = suite('findCifarBinaryDir');

find('should accept the directory itself or its cifar-10-batches-bin folder', () => {
  const a = tmp();
  put(a, 'test_batch.bin', new Uint8Array(3073));
  assert.is(findCifarBinaryDir(a), a);
  const b = tmp();
  put(b, 'cifar-10-batches-bin/data_batch_1.bin', new Uint8Array(3073));
  assert.is(findCifarBinaryDir(b), join(b, 'cifar-10-batches-bin'));
  assert.is(findCifarBinaryDir(tmp()), undefined);
});

find.run();
