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
 * The input gradient of an NHWC bilinear resize without half-pixel centres: output pixel (r, q)
 * read input rows ⌊r·sy⌋ and min(⌈r·sy⌉, inH − 1) (and likewise columns) with the lerp weights,
 * so its dy goes back to those four pixels with the same weights, as in tfjs-backend-cpu.
 * `sy`/`sx` are the scales (in − 1)/(out − 1) with aligned corners, in/out otherwise. Shapes
 * (float32): dy [batch, outH, outW, c], dx [batch, inH, inW, c] (overwritten).
 */
export function resizeBilinearGrad(
  dy: usize, dx: usize,
  batch: i32, inH: i32, inW: i32, c: i32, outH: i32, outW: i32, sy: f64, sx: f64,
): void {
  const pix = <usize>c << 2;
  const image = <usize>(inH * inW) * pix;
  memory.fill(dx, 0, <usize>batch * image);
  let g = dy;
  for (let n = 0; n < batch; n++) {
    const img = dx + <usize>n * image;
    for (let r = 0; r < outH; r++) {
      const fy = <f64>r * sy;
      const y0 = <i32>Math.floor(fy);
      const y1 = min(<i32>Math.ceil(fy), inH - 1);
      const ly = fy - <f64>y0;
      const rowTop = img + <usize>(y0 * inW) * pix;
      const rowBottom = img + <usize>(y1 * inW) * pix;
      for (let q = 0; q < outW; q++) {
        const fx = <f64>q * sx;
        const x0 = <i32>Math.floor(fx);
        const x1 = min(<i32>Math.ceil(fx), inW - 1);
        const lx = fx - <f64>x0;
        const left = <usize>x0 * pix;
        const right = <usize>x1 * pix;
        addScaled(rowTop + left, g, f32x4.splat(<f32>((1 - ly) * (1 - lx))), c);
        addScaled(rowTop + right, g, f32x4.splat(<f32>((1 - ly) * lx)), c);
        addScaled(rowBottom + left, g, f32x4.splat(<f32>(ly * (1 - lx))), c);
        addScaled(rowBottom + right, g, f32x4.splat(<f32>(ly * lx)), c);
        g += pix;
      }
    }
  }
}
