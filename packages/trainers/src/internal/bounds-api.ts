// The one module of trainers that reaches @patchcert/bounds: threat construction from a config
// entry, the differentiable worst-case margins training needs, and certification verdicts.
import { tf } from '@patchcert/backend';
import { certify, worstMargins, squarePatch, rectanglePatch, sparsePixels, type ThreatModel } from '@patchcert/bounds';
import type { SequentialModel } from '@patchcert/models';
import type { ThreatConfig } from '../train-config.js';

export { worstMargins };

/** A threat model of @patchcert/bounds: a patch (square, rectangle, shape) or sparse threat. */
export type Threat = ThreatModel;

/** Builds the threat a config describes. */
export function makeThreat(cfg: ThreatConfig): Threat {
  if (cfg.type === 'patch') return squarePatch(cfg.size);
  if (cfg.type === 'rectangle') return rectanglePatch(cfg.height, cfg.width);
  return sparsePixels(cfg.k, { tight: cfg.tight ?? false });
}

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
