import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { ThreatModel } from '../threat-model.js';
import { pixelBoxes } from '../input-box.js';
import { checkEps, checkModelImages } from './validate.js';
import { labelArray, oneHotLabels, type LabelsLike } from './labels.js';
import type { MarginPlan, PreparedBatch, RowOrigins } from './prepared.js';
import type { BoundMethod } from './create-plan.js';

/** Validated common arguments of the margin functions. */
export interface CheckedArgs {
  labels: Int32Array;
  height: number;
  width: number;
  method: BoundMethod;
}

/** Validates model/images/labels/threat/eps/method; throws PatchcertError with a code. */
export function checkArgs(fn: string, model: SequentialModel, images: tf.Tensor, labels: LabelsLike, threat: ThreatModel, eps: number, method: unknown): CheckedArgs {
  checkModelImages(model, images, fn);
  checkEps(eps, fn);
  assert(method === 'fast' || method === 'naive', () => `Error in ${fn}: method must be 'fast' or 'naive', but got ${String(method)}.`, 'INVALID_OPTION');
  assert(threat !== null && typeof threat === 'object' && (threat.kind === 'patch' || threat.kind === 'sparse'),
    () => `Error in ${fn}: threat must be a PatchThreat or SparseThreat (squarePatch(n), shapePatch(mask), sparsePixels(k)), but got ${String(threat)}.`, 'INVALID_OPTION');
  const [batch, h, w] = images.shape as [number, number, number, number];
  if (threat.kind === 'patch') threat.validate(h, w, fn);
  return { labels: labelArray(labels, batch, model.numClasses, fn), height: h, width: w, method };
}

/** Boxes and one-hot labels for a batch of pixel images (caller disposes the tensors). */
export function prepareBatch(model: SequentialModel, pixels: tf.Tensor4D, labels: Int32Array, eps: number): PreparedBatch {
  return {
    model,
    pixels,
    eps,
    boxes: pixelBoxes(pixels, eps, model.metadata.normalization),
    onehot: oneHotLabels(labels, model.numClasses),
  };
}

/** Frees what {@link prepareBatch} made (not the pixels, which the caller owns). */
export function disposeBatch(prep: PreparedBatch): void {
  tf.dispose([prep.boxes.clean, prep.boxes.box.mu, prep.boxes.box.r, prep.onehot]);
}

/** Origins of locations `[l0, l1)` of the threat, the same for every image. */
export function sharedOrigins(threat: ThreatModel, h: number, w: number, batch: number, l0: number, l1: number): RowOrigins {
  const k = l1 - l0;
  const rows = new Int32Array(batch * k);
  const cols = new Int32Array(batch * k);
  if (threat.kind === 'patch') {
    for (let l = l0; l < l1; l++) {
      const [r, c] = threat.locationOrigin(l, h, w);
      for (let b = 0; b < batch; b++) {
        rows[b * k + l - l0] = r;
        cols[b * k + l - l0] = c;
      }
    }
  }
  return { perImage: k, rows, cols, shared: true };
}

/** Origins of columns `[j0, j1)` of per-image location indices `locs` `[batch · k]`. */
export function explicitOrigins(threat: ThreatModel, h: number, w: number, batch: number, locs: Int32Array, k: number, j0: number, j1: number): RowOrigins {
  const kk = j1 - j0;
  const rows = new Int32Array(batch * kk);
  const cols = new Int32Array(batch * kk);
  if (threat.kind === 'patch') {
    for (let b = 0; b < batch; b++) {
      for (let j = j0; j < j1; j++) {
        const [r, c] = threat.locationOrigin(locs[b * k + j]!, h, w);
        rows[b * kk + j - j0] = r;
        cols[b * kk + j - j0] = c;
      }
    }
  }
  return { perImage: kk, rows, cols };
}

/** Default floats per intermediate tensor of one pass (~24 MB); `chunk` overrides the row count. */
const ROW_BUDGET_FLOATS = 6_000_000;

/** Locations per image in one pass. */
export function locationsPerPass(plan: MarginPlan, batch: number, total: number, chunk: number | undefined): number {
  const rows = chunk ?? Math.max(1, Math.floor(ROW_BUDGET_FLOATS / Math.max(1, plan.rowCost)));
  return Math.max(1, Math.min(total, Math.floor(rows / batch)));
}

/** Checks the `chunk` option. */
export function checkChunk(chunk: number | undefined, fn: string): void {
  assert(chunk === undefined || (Number.isInteger(chunk) && chunk >= 1), () => `Error in ${fn}: chunk must be a positive integer (bound rows per pass), but got ${chunk}.`, 'INVALID_OPTION');
}

/** Whether the `batch` images of `data` (equal-sized, image-major) are all identical. */
export function imagesEqual(data: Float32Array, batch: number): boolean {
  const size = data.length / batch;
  for (let b = 1; b < batch; b++) {
    for (let i = 0; i < size; i++) if (data[b * size + i] !== data[i]) return false;
  }
  return true;
}
