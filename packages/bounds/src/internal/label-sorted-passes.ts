import { tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { ThreatModel } from '../threat-model.js';
import { createPlan, type BoundMethod } from './create-plan.js';
import { disposeBatch, locationsPerPass, prepareBatch, sharedOrigins } from './batch.js';
import type { MarginPlan, PreparedBatch } from './prepared.js';

/** What {@link labelSortedPasses} calls back with. */
export interface PassVisitor {
  /** Once per image batch, before its passes (inside its tidy). `idx`: the images' indices. */
  batch?(prep: PreparedBatch, idx: Int32Array): void;
  /**
   * Once per pass: margins `data` `[idx.length, k, classes]` of locations `[l0, l0 + k)` for
   * images `idx` (labels `y`); the array is only valid during the call.
   */
  pass(idx: Int32Array, y: Int32Array, l0: number, k: number, data: Float32Array): void;
}

/**
 * Runs `body` on the images in label order, `imageBatch` at a time, each batch boxed and
 * labelled (`prep.hostLabels` set: nothing is differentiated) inside its own tidy; a batch holds
 * long runs of one label, so the elided layer runs one matmul per label run where the fused
 * kernel does not apply. `idx`: the batch's image indices, `y` their labels.
 */
export function labelSortedBatches(
  model: SequentialModel, images: tf.Tensor4D, labels: Int32Array, options: { eps: number; imageBatch: number },
  body: (prep: PreparedBatch, idx: Int32Array, y: Int32Array) => void,
): void {
  const [n, h, w, ch] = images.shape;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => labels[a]! - labels[b]! || a - b);
  const px = images.dataSync() as Float32Array;
  const size = h * w * ch;
  for (let b0 = 0; b0 < n; b0 += options.imageBatch) {
    const bn = Math.min(options.imageBatch, n - b0);
    const idx = order.subarray(b0, b0 + bn);
    const y = Int32Array.from(idx, (i) => labels[i]!);
    tf.tidy(() => {
      const batchPx = new Float32Array(bn * size);
      for (let b = 0; b < bn; b++) batchPx.set(px.subarray(idx[b]! * size, (idx[b]! + 1) * size), b * size);
      const pixels = tf.tensor4d(batchPx, [bn, h, w, ch]);
      const prep = { ...prepareBatch(model, pixels, y, options.eps), hostLabels: y };
      try {
        body(prep, idx, y);
      } finally {
        disposeBatch(prep);
      }
    });
  }
}

/**
 * Margins at every location of every image without gradients (certify's full loop, also the
 * ranking of all-patch training): {@link labelSortedBatches}, each batch's locations in passes
 * sized by the plan's row cost.
 */
export function labelSortedPasses(
  model: SequentialModel, images: tf.Tensor4D, labels: Int32Array, threat: ThreatModel,
  options: { eps: number; method: BoundMethod; chunk: number | undefined; imageBatch: number }, visit: PassVisitor,
): void {
  const [, h, w] = images.shape;
  const total = threat.kind === 'sparse' ? 1 : threat.locations(h, w);
  labelSortedBatches(model, images, labels, options, (prep, idx, y) => {
    visit.batch?.(prep, idx);
    const plan = createPlan(prep, threat, options.method, false);
    try {
      sharedPasses(plan, threat, h, w, idx.length, total, options.chunk, (l0, k, data) => visit.pass(idx, y, l0, k, data));
    } finally {
      plan.dispose();
    }
  });
}

/**
 * Runs `plan` over every location of its `batch` images in passes sized by its row cost; `fn`
 * gets each pass's margins `[batch, k, classes]` of locations `[l0, l0 + k)` (valid during the call).
 */
export function sharedPasses(
  plan: MarginPlan, threat: ThreatModel, h: number, w: number, batch: number, total: number, chunk: number | undefined,
  fn: (l0: number, k: number, data: Float32Array) => void,
): void {
  const step = threat.kind === 'sparse' ? 1 : locationsPerPass(plan, batch, total, chunk);
  for (let l0 = 0; l0 < total; l0 += step) {
    const l1 = Math.min(total, l0 + step);
    const m = plan.margins(sharedOrigins(threat, h, w, batch, l0, l1));
    const data = m.dataSync() as Float32Array;
    m.dispose();
    fn(l0, l1 - l0, data);
  }
}
