import { tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { datasetTensors, type ImageDataset } from '@patchcert/datasets';
import { certifyImages, type Threat } from './internal/bounds-api.js';
import type { EvaluationResult } from './trainer-events.js';

/** Options of {@link evaluateCertified}. */
export interface EvaluateOptions {
  /** Evaluate the first `limit` images. @defaultValue all */
  limit?: number;
  /** Images per certification call. @defaultValue 100 */
  batchSize?: number;
  /** Called after every batch with the images done so far. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Clean and certified accuracy of `model` on the first images of `dataset`, certifying every
 * location of `threat` at eps 1 (reference eval.py), without gradients.
 *
 * @returns accuracies in [0,1] and the seconds it took.
 */
export async function evaluateCertified(model: SequentialModel, dataset: ImageDataset, threat: Threat, options: EvaluateOptions = {}): Promise<EvaluationResult> {
  const t0 = performance.now();
  const n = Math.min(options.limit ?? dataset.count, dataset.count);
  const bs = options.batchSize ?? 100;
  let clean = 0;
  let certified = 0;
  for (let s = 0; s < n; s += bs) {
    const count = Math.min(bs, n - s);
    const idx = Int32Array.from({ length: count }, (_, i) => s + i);
    const { x, y } = datasetTensors(dataset, idx);
    try {
      const r = await certifyImages(model, x, y, threat);
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
