import type { PatchThreat } from '../patch-threat.js';

/**
 * The feature offsets of a patch's pixels and channels from the feature of its top-left pixel,
 * in a flattened NHWC image of `width` pixels per row and `channels` values per pixel: a patch at
 * (r, c) covers features (r·width + c)·channels + each offset.
 */
export function windowTaps(threat: PatchThreat, width: number, channels: number): number[] {
  const taps: number[] = [];
  for (let dr = 0; dr < threat.height; dr++) {
    for (let dc = 0; dc < threat.width; dc++) {
      if (threat.stencil[dr * threat.width + dc]) for (let ch = 0; ch < channels; ch++) taps.push((dr * width + dc) * channels + ch);
    }
  }
  return taps;
}
