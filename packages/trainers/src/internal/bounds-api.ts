// The module of trainers that reaches @patchcert/bounds' bound computations: the differentiable
// worst-case margins training needs and certification verdicts.
import { tf } from '@patchcert/backend';
import { certify, worstMargins } from '@patchcert/bounds';
import type { SequentialModel } from '@patchcert/models';
import type { Threat } from '../make-threat.js';

export { worstMargins };
export type { Threat };

/** Number of patch locations of `threat` on an h×w image (1 for sparse). */
export function threatLocationCount(threat: Threat, h: number, w: number): number {
  return threat.kind === 'sparse' ? 1 : threat.locations(h, w);
}

/** Per-image certified and correct flags under `threat` at eps 1, every location, no gradients. */
export async function certifyImages(
  model: SequentialModel,
  images: tf.Tensor4D,
  labels: tf.Tensor1D,
  threat: Threat,
): Promise<{ certified: Uint8Array; correct: Uint8Array }> {
  const r = certify(model, images, labels, threat, { eps: 1 });
  return { certified: r.certified, correct: r.correct };
}
