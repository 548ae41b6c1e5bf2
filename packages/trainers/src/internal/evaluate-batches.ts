import { tf } from '@patchcert/backend';
import { datasetTensors, type ImageDataset } from '@patchcert/datasets';
import type { EvaluateOptions } from '../evaluate.js';
import type { EvaluationResult } from '../trainer-events.js';

/** Per-image 0/1 results of one batch. */
export interface BatchCounts {
  correct: ArrayLike<number>;
  certified: ArrayLike<number>;
}

/**
 * Clean and certified accuracy over the first images of `dataset`, in batches of
 * `options.batchSize`: `fn` gets each batch's images `[count, height, width, channels]` and labels
 * `[count]` (freed after it returns) and the index of its first image.
 *
 * @returns accuracies in [0,1] and the seconds it took.
 */
export async function evaluateBatches(
  dataset: ImageDataset,
  options: EvaluateOptions,
  fn: (x: tf.Tensor4D, y: tf.Tensor1D, start: number) => BatchCounts | Promise<BatchCounts>,
): Promise<EvaluationResult> {
  const t0 = performance.now();
  const n = Math.min(options.limit ?? dataset.count, dataset.count);
  const bs = options.batchSize ?? 100;
  let clean = 0;
  let certified = 0;
  for (let s = 0; s < n; s += bs) {
    const count = Math.min(bs, n - s);
    const { x, y } = datasetTensors(dataset, Int32Array.from({ length: count }, (_, i) => s + i));
    try {
      const r = await fn(x, y, s);
      for (let i = 0; i < count; i++) {
        clean += r.correct[i]!;
        certified += r.certified[i]!;
      }
    } finally {
      tf.dispose([x, y]);
    }
    options.onProgress?.(s + count, n);
  }
  return { images: n, cleanAccuracy: n ? clean / n : 0, certifiedAccuracy: n ? certified / n : 0, seconds: (performance.now() - t0) / 1000 };
}
