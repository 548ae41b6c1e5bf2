// The one module of unet-guide that reaches @patchcert/bounds' threat models and per-location
// bounds, so the rest of the package depends on one narrow surface.
import { PatchcertError } from '@patchcert/backend';
import { locationMargins, minOverLocations, type ThreatModel } from '@patchcert/bounds';

export { locationMargins, minOverLocations };

/** Per-location margin lower bounds `[B, L, classes]`, as bounds' `locationMargins`. */
export type LocationMarginsFn = typeof locationMargins;

/**
 * The location grid `[rows, cols]` of feasible top-left corners of a patch threat on an h×w
 * image, and the patch's bounding `[height, width]` (what the U-Net output is cropped by).
 *
 * @throws PatchcertError `INVALID_ARGUMENT` for a sparse threat, `INVALID_OPTION` for a patch
 *   restricted to a list of locations (the U-Net predicts the full grid).
 */
export function threatGrid(threat: ThreatModel, h: number, w: number, fn: string): { grid: [number, number]; patch: [number, number] } {
  if (threat.kind !== 'patch') {
    throw new PatchcertError('INVALID_ARGUMENT', `Error in ${fn}: threat must be a patch threat (square, rectangle or shape), but got a ${threat.kind} threat.`);
  }
  if (threat.fixedLocations) {
    throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: threat must place the patch at every location of the grid, but got ${threat.fixedLocations.length} fixed locations.`);
  }
  threat.validate(h, w, fn);
  return { grid: threat.grid(h, w), patch: [threat.height, threat.width] };
}
