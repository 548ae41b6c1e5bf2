// AssemblyScript source of the wasm MaxPoolGrad's loop (compiled by scripts/build-wasm.mjs into
// src/kernels/wasm/generated/). Pointers are byte offsets into tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/**
 * The input gradient of an NHWC max pool (dilation 1): every dy goes to the first maximum of its
 * window in row-major order, padding excluded, as tfjs-backend-cpu's MaxPoolGrad (a window
 * whose values are all −∞ or NaN passes nothing). Shapes (float32): x [batch, inH, inW, c],
 * dy [batch, outH, outW, c], dx like x (overwritten).
 */
export function maxPoolGrad(
  x: usize, dy: usize, dx: usize,
  batch: i32, inH: i32, inW: i32, c: i32, outH: i32, outW: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, top: i32, left: i32,
): void {
  const image = <usize>(inH * inW * c) << 2;
  memory.fill(dx, 0, <usize>batch * image);
  const pix = <usize>c << 2;
  let g = dy;
  for (let n = 0; n < batch; n++) {
    const xImg = x + <usize>n * image;
    const dxImg = dx + <usize>n * image;
    for (let i = 0; i < outH; i++) {
      const r0 = max(0, i * sh - top);
      const r1 = min(inH, i * sh - top + fh);
      for (let j = 0; j < outW; j++) {
        const c0 = max(0, j * sw - left);
        const c1 = min(inW, j * sw - left + fw);
        for (let ch = 0; ch < c; ch++) {
          let best: f32 = -Infinity;
          let at: isize = -1;
          for (let r = r0; r < r1; r++) {
            let p = xImg + (<usize>(r * inW + c0) * pix) + (<usize>ch << 2);
            for (let q = c0; q < c1; q++) {
              const v = load<f32>(p);
              if (v > best) {
                best = v;
                at = <isize>(p - xImg);
              }
              p += pix;
            }
          }
          if (at >= 0) {
            const d = dxImg + <usize>at;
            store<f32>(d, load<f32>(d) + load<f32>(g));
          }
          g += 4;
        }
      }
    }
  }
}
