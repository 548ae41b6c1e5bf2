import { join } from 'node:path';
import { PatchcertError, mustBe } from '@patchcert/backend';
import type { DatasetSplit } from './dataset.js';
import { readIdxFile } from './idx.js';
import { formatError } from './internal/fail.js';
import { exists } from './internal/files.js';
import type { RawImages } from './internal/raw.js';

const PREFIX: Record<DatasetSplit, string> = { train: 'train', test: 't10k' };

/**
 * The image and label files of one split in an MNIST-layout directory: `train-images-idx3-ubyte`
 * / `t10k-…`, plain or `.gz` (the dotted `train-images.idx3-ubyte` spelling is accepted too).
 *
 * @throws PatchcertError FILE_NOT_FOUND naming the directory and the names tried
 */
export function idxSplitFiles(dir: string, split: DatasetSplit): { images: string; labels: string } {
  const find = (kind: 'images-idx3' | 'labels-idx1'): string => {
    const [a, b] = kind.split('-') as [string, string];
    const names = [`${PREFIX[split]}-${kind}-ubyte`, `${PREFIX[split]}-${a}.${b}-ubyte`];
    const tried = names.flatMap((n) => [n, `${n}.gz`]);
    for (const n of tried) if (exists(join(dir, n))) return join(dir, n);
    throw new PatchcertError(
      'FILE_NOT_FOUND',
      mustBe('idxSplitFiles', `the ${split} ${a} file in '${dir}'`, `one of ${tried.join(', ')}`, 'none of them'),
    );
  };
  return { images: find('images-idx3'), labels: find('labels-idx1') };
}

/**
 * Reads an MNIST-format split (IDX images `[N, H, W]` + IDX labels `[N]`) into NHWC bytes
 * with one channel.
 *
 * @param files paths of the image and label files (plain or `.gz`)
 * @param numClasses labels must be below this
 * @throws PatchcertError DATA_FORMAT on a bad file, a count mismatch or an out-of-range label
 */
export function readIdxImages(files: { images: string; labels: string }, numClasses: number): RawImages {
  const fn = 'readIdxImages';
  const img = readIdxFile(files.images, 3);
  const lab = readIdxFile(files.labels, 1);
  const [n, h, w] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) {
    throw formatError(fn, `the label count of '${files.labels}'`, `${n} (the image count of '${files.images}')`, `${lab.dims[0]}`);
  }
  const labels = lab.data;
  for (let i = 0; i < n; i++) {
    if (labels[i]! >= numClasses) {
      throw formatError(fn, `label ${i} of '${files.labels}'`, `in [0, ${numClasses - 1}]`, `${labels[i]}`);
    }
  }
  return { images: img.data, labels, count: n, shape: [h, w, 1] };
}

/** Reads one split of an MNIST-layout directory; see {@link idxSplitFiles} and {@link readIdxImages}. */
export function readIdxDirectory(dir: string, split: DatasetSplit, numClasses: number): RawImages {
  return readIdxImages(idxSplitFiles(dir, split), numClasses);
}
