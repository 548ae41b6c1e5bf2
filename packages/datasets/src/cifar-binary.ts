import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchcertError, mustBe } from '@patchcert/backend';
import type { DatasetSplit } from './dataset.js';
import { formatError } from './internal/fail.js';
import { exists } from './internal/files.js';
import type { RawImages } from './internal/raw.js';

const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;

/** File names of a split in the official CIFAR-10 binary release. */
export const CIFAR10_BINARY_FILES: Readonly<Record<DatasetSplit, readonly string[]>> = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};

/**
 * The directory holding the `.bin` batches: `dir` itself or its `cifar-10-batches-bin`
 * subdirectory (the layout of the official archive), or `undefined` when neither holds them.
 */
export function findCifarBinaryDir(dir: string): string | undefined {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin')]) {
    if (exists(join(d, 'test_batch.bin')) || exists(join(d, 'data_batch_1.bin'))) return d;
  }
  return undefined;
}

/**
 * Reads a split of CIFAR-10 in the official binary format (records of 1 label byte followed by
 * 3072 pixel bytes: the red, green and blue 32×32 planes) and converts it to NHWC bytes.
 *
 * @param dir a directory with `data_batch_1..5.bin` / `test_batch.bin`, or its parent
 * @throws PatchcertError FILE_NOT_FOUND when a batch file is missing, DATA_FORMAT when a file's
 * size is not a whole number of 3073-byte records or a label is above 9
 */
export function readCifarBinary(dir: string, split: DatasetSplit): RawImages {
  const fn = 'readCifarBinary';
  const base = findCifarBinaryDir(dir) ?? dir;
  const files = CIFAR10_BINARY_FILES[split].map((n) => join(base, n));
  for (const f of files) {
    if (!exists(f)) {
      throw new PatchcertError('FILE_NOT_FOUND', mustBe(fn, `CIFAR-10 ${split} batch '${f}'`, 'an existing file', 'none'));
    }
  }
  const buffers = files.map((f) => {
    const b = readFileSync(f);
    if (b.length === 0 || b.length % RECORD !== 0) {
      throw formatError(fn, `the size of '${f}'`, `a positive multiple of ${RECORD} bytes (1 label + 3072 pixels per record)`, `${b.length} bytes`);
    }
    return b;
  });
  const count = buffers.reduce((s, b) => s + b.length / RECORD, 0);
  const images = new Uint8Array(count * 3 * PLANE);
  const labels = new Uint8Array(count);
  let n = 0;
  buffers.forEach((b, fi) => {
    for (let r = 0; r < b.length / RECORD; r++, n++) {
      const off = r * RECORD;
      const label = b[off]!;
      if (label > 9) throw formatError(fn, `the label of record ${r} in '${files[fi]}'`, 'in [0, 9]', `${label}`);
      labels[n] = label;
      const out = n * 3 * PLANE;
      // Interleave the three planes into HWC order.
      for (let p = 0; p < PLANE; p++) {
        images[out + 3 * p] = b[off + 1 + p]!;
        images[out + 3 * p + 1] = b[off + 1 + PLANE + p]!;
        images[out + 3 * p + 2] = b[off + 1 + 2 * PLANE + p]!;
      }
    }
  });
  return { images, labels, count, shape: [SIDE, SIDE, 3] };
}
