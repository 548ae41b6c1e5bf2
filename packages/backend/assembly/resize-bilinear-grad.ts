// AssemblyScript source of the wasm ResizeBilinearGrad's loop (compiled by
// scripts/build-wasm.mjs into src/kernels/wasm/generated/). Pointers are byte offsets into
// tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { loadLanes, addLanes } from './lanes';

/** dst[0 … n) += w · src[0 … n), four channels a vector. */
@inline
function addScaled(dst: usize, src: usize, w: v128, n: i32): void {
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const o = dst + (<usize>k << 2);
    v128.store(o, f32x4.add(v128.load(o), f32x4.mul(w, v128.load(src + (<usize>k << 2)))));
  }
  if (k < n) addLanes(dst + (<usize>k << 2), f32x4.mul(w, loadLanes(src + (<usize>k << 2), n - k)), n - k);
}

/**
 * The input gradient of an NHWC bilinear resize: output pixel (r, q) read input rows y0[r],
 * y1[r] with weight ly[r] on y1 (and likewise columns), so its dy goes back to those four
 * pixels with the same weights. The tables hold, per output row and per output column, the two
 * source offsets (i32: rows in input rows, columns in bytes within a row) and the lerp weight
 * (f32), 12 bytes an entry, computed by the caller (src/kernels/wasm/ResizeBilinearGrad.ts).
 * Shapes (float32): dy [batch, outH, outW, c], dx [batch, inH, inW, c] (overwritten).
 */
export function resizeBilinearGrad(
  dy: usize, dx: usize, rowTable: usize, colTable: usize,
  batch: i32, inH: i32, inW: i32, c: i32, outH: i32, outW: i32,
): void {
  const pix = <usize>c << 2;
  const rowBytes = <usize>inW * pix;
  const image = <usize>inH * rowBytes;
  memory.fill(dx, 0, <usize>batch * image);
  let g = dy;
  for (let n = 0; n < batch; n++) {
    const img = dx + <usize>n * image;
    let rt = rowTable;
    for (let r = 0; r < outH; r++) {
      const rowTop = img + <usize>load<i32>(rt) * rowBytes;
      const rowBottom = img + <usize>load<i32>(rt, 4) * rowBytes;
      const ly = load<f32>(rt, 8);
      rt += 12;
      let ct = colTable;
      for (let q = 0; q < outW; q++) {
        const left = <usize>load<i32>(ct);
        const right = <usize>load<i32>(ct, 4);
        const lx = load<f32>(ct, 8);
        ct += 12;
        addScaled(rowTop + left, g, f32x4.splat((1 - ly) * (1 - lx)), c);
        addScaled(rowTop + right, g, f32x4.splat((1 - ly) * lx), c);
        addScaled(rowBottom + left, g, f32x4.splat(ly * (1 - lx)), c);
        addScaled(rowBottom + right, g, f32x4.splat(ly * lx), c);
        g += pix;
      }
    }
  }
}
