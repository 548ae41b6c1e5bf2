import { squarePatch, rectanglePatch, sparsePixels, type ThreatModel } from '@patchcert/bounds';
import type { ThreatConfig } from './train-config.js';

/** A threat model of @patchcert/bounds: a patch (square, rectangle, shape) or sparse threat. */
export type Threat = ThreatModel;

/**
 * Builds the @patchcert/bounds threat a config entry describes.
 * @example
 * makeThreat({ type: 'patch', size: 2 }); // squarePatch(2)
 */
export function makeThreat(cfg: ThreatConfig): Threat {
  if (cfg.type === 'patch') return squarePatch(cfg.size);
  if (cfg.type === 'rectangle') return rectanglePatch(cfg.height, cfg.width);
  return sparsePixels(cfg.k, { tight: cfg.tight ?? false });
}
