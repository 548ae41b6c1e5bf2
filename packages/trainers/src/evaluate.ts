import type { SequentialModel } from '@patchcert/models';
import type { ImageDataset } from '@patchcert/datasets';
import { certifyImages, type Threat } from './internal/bounds-api.js';
import type { EvaluationResult } from './trainer-events.js';
import { evaluateBatches } from './internal/evaluate-batches.js';

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
  return evaluateBatches(dataset, options, (x, y) => certifyImages(model, x, y, threat));
}
