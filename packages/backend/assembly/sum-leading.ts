// AssemblyScript source of the wasm Sum's loop for reductions over the leading axes (per-channel
// sums of NHWC tensors: bias and BatchNorm gradients). Pointers are byte offsets into
// tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { loadLanes, addLanes } from './lanes';

/** Columns per pass over the rows: two 4-lane accumulators. */
const COL_BLOCK: i32 = 8;
/**
 * Rows per partial sum: no accumulator adds more than this many terms before it goes into
 * `out` (float32 rounding then grows with the tile and the tile count, not with all rows), and
 * a tile of ≤ 32 columns (32 KiB) stays in L1 across its column passes.
 */
const ROW_TILE: i32 = 256;

/** Σ over `rows` rows of the columns c0 … c0 + na + nb − 1 (na, nb ≤ 4), added into `out`. */
@inline
function sumBlock(x: usize, out: usize, rows: i32, rowBytes: usize, c0: i32, na: i32, nb: i32): void {
  let a = f32x4.splat(0);
  let b = a;
  let p = x + (<usize>c0 << 2);
  for (let r = 0; r < rows; r++) {
    a = f32x4.add(a, loadLanes(p, na));
    b = f32x4.add(b, loadLanes(p + 16, nb));
    p += rowBytes;
  }
  const o = out + (<usize>c0 << 2);
  addLanes(o, a, na);
  addLanes(o + 16, b, nb);
}

/**
 * out[c] = Σ_r x[r, c] for x float32 [rows, cols], out float32 [cols] (overwritten). Tile by
 * tile of rows, one pass per 8 columns with the partial sums in registers.
 */
export function sumLeading(x: usize, out: usize, rows: i32, cols: i32): void {
  memory.fill(out, 0, <usize>cols << 2);
  const rowBytes = <usize>cols << 2;
  for (let r0 = 0; r0 < rows; r0 += ROW_TILE) {
    const tile = x + <usize>r0 * rowBytes;
    const nr = min(ROW_TILE, rows - r0);
    for (let c0 = 0; c0 < cols; c0 += COL_BLOCK) {
      const n = min(COL_BLOCK, cols - c0);
      // Literal lane counts for the common blocks, so their loop has no lane branches.
      if (n == 8) sumBlock(tile, out, nr, rowBytes, c0, 4, 4);
      else if (n == 6) sumBlock(tile, out, nr, rowBytes, c0, 4, 2);
      else if (n == 4) sumBlock(tile, out, nr, rowBytes, c0, 4, 0);
      else sumBlock(tile, out, nr, rowBytes, c0, min(4, n), n - 4);
    }
  }
}
