import { PatchThreat } from '../patch-threat.js';

/** Blocks of adjacent locations of a patch threat, for bounding a block before its members. */
export interface LocationBlocks {
  /**
   * One location per block: the stencil dilated over the block's bh × bw locations, at the block's
   * origin. Its box contains every member's box, so by IBP's monotonicity its margin lower
   * bounds are ≤ every member's.
   */
  union: PatchThreat;
  /** Number of blocks (= locations of `union`). */
  count: number;
  /** The block of every location `[total]`: each location belongs to exactly one block. */
  blockOf: Int32Array;
  /** Every location the block's union covers (its bh × bw locations), `[count · bh · bw]`. */
  covered: Int32Array;
  /** Locations per block in `covered` (bh · bw). */
  size: number;
}

/**
 * Tiles the location grid with g × g blocks (fewer rows/columns where the grid is narrower), the
 * last block of a row or column shifted back to fit the grid, so blocks may overlap there but a
 * location belongs to the block its index falls in (`min(⌊r/g⌋, last)`). Undefined for
 * threats at a fixed location list (no grid) and for grids with fewer than 4·g² locations (too
 * few to pay for a coarse round).
 */
export function locationBlocks(threat: PatchThreat, h: number, w: number, g: number): LocationBlocks | undefined {
  if (threat.fixedLocations) return undefined;
  const [gh, gw] = threat.grid(h, w);
  if (gh * gw < 4 * g * g) return undefined;
  const bh = Math.min(g, gh);
  const bw = Math.min(g, gw);
  const starts = (n: number, b: number): number[] => Array.from({ length: Math.ceil(n / b) }, (_, i) => Math.min(i * b, n - b));
  const rs = starts(gh, bh);
  const cs = starts(gw, bw);
  const origins = rs.flatMap((r) => cs.map((c) => [r, c] as const));
  const blockOf = new Int32Array(gh * gw);
  for (let r = 0; r < gh; r++) {
    for (let c = 0; c < gw; c++) blockOf[r * gw + c] = Math.min(Math.floor(r / bh), rs.length - 1) * cs.length + Math.min(Math.floor(c / bw), cs.length - 1);
  }
  const size = bh * bw;
  const covered = new Int32Array(origins.length * size);
  origins.forEach(([r0, c0], k) => {
    for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) covered[k * size + i * bw + j] = (r0 + i) * gw + c0 + j;
  });
  // The stencil dilated by the block: the union of its copies shifted by (0…bh−1, 0…bw−1).
  const uh = threat.height + bh - 1;
  const uw = threat.width + bw - 1;
  const stencil = new Uint8Array(uh * uw);
  for (let a = 0; a < threat.height; a++) {
    for (let b = 0; b < threat.width; b++) {
      if (!threat.stencil[a * threat.width + b]) continue;
      for (let i = 0; i < bh; i++) for (let j = 0; j < bw; j++) stencil[(a + i) * uw + b + j] = 1;
    }
  }
  const union = new PatchThreat(uh, uw, stencil, `${threat.name} over ${bh}×${bw} blocks`, origins);
  return { union, count: origins.length, blockOf, covered, size };
}
