// AssemblyScript source of the wasm Conv2DBackpropFilter's direct loop
// (compiled by scripts/build-wasm.mjs into src/kernels/wasm/generated/). Pointers are byte
// offsets into tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { loadLanes, addLanes, madd } from './lanes';

/** Input channels per sweep: three splats × two 4-lane output vectors = 6 accumulators. */
const CI_GROUP: i32 = 3;
/** Output channels per sweep (two 4-lane vectors). */
const CO_BLOCK: i32 = 8;

/**
 * One image, one tap (p, q), input channels c0 … c0 + nc − 1 (nc ≤ 3; `x1`/`x2` are the byte
 * offsets of the second and third), output
 * channels o0… in two vectors of `na` and `nb` lanes: dW[p, q, c, o] += Σ_{i,j} x·dy over the
 * output rows [i0, i1) and columns [j0, j1) whose input pixel lies inside the image.
 * Inlined with literal lane counts, so the common cases compile without lane branches.
 */
@inline
function sweep(
  xImg: usize, dyImg: usize, dwTap: usize,
  i0: i32, i1: i32, j0: i32, j1: i32, rowOff: i32, colOff: i32,
  inW: i32, outW: i32, sh: i32, xPix: usize, xColStep: usize, dyPix: usize,
  c0: i32, x1: usize, x2: usize, nc: i32, o0: i32, outC: i32, na: i32, nb: i32,
): void {
  let a0 = f32x4.splat(0);
  let b0 = a0;
  let a1 = a0;
  let b1 = a0;
  let a2 = a0;
  let b2 = a0;
  for (let i = i0; i < i1; i++) {
    let xp = xImg + <usize>((i * sh + rowOff) * inW + colOff) * xPix + (<usize>c0 << 2);
    let dp = dyImg + <usize>(i * outW + j0) * dyPix + (<usize>o0 << 2);
    for (let j = j0; j < j1; j++) {
      const da = loadLanes(dp, na);
      const db = loadLanes(dp + 16, nb);
      const s0 = v128.load32_splat(xp);
      a0 = madd(s0, da, a0);
      b0 = madd(s0, db, b0);
      if (nc > 1) {
        const s1 = v128.load32_splat(xp + x1);
        a1 = madd(s1, da, a1);
        b1 = madd(s1, db, b1);
      }
      if (nc > 2) {
        const s2 = v128.load32_splat(xp + x2);
        a2 = madd(s2, da, a2);
        b2 = madd(s2, db, b2);
      }
      xp += xColStep;
      dp += dyPix;
    }
  }
  const row = <usize>outC << 2;
  const w0 = dwTap + (<usize>(c0 * outC + o0) << 2);
  addLanes(w0, a0, na);
  addLanes(w0 + 16, b0, nb);
  if (nc > 1) {
    addLanes(w0 + row, a1, na);
    addLanes(w0 + row + 16, b1, nb);
  }
  if (nc > 2) {
    addLanes(w0 + 2 * row, a2, na);
    addLanes(w0 + 2 * row + 16, b2, nb);
  }
}

/** ⌈a / b⌉ for b > 0 and any sign of a. */
@inline
function ceilDiv(a: i32, b: i32): i32 {
  return a > 0 ? (a + b - 1) / b : -(-a / b);
}

/**
 * The kernel gradient of an NHWC convolution with dilation 1:
 *
 *   dw[p, q, c, o] = Σ_{n,i,j} x[n, i·sh + p − top, j·sw + q − left, c] · dy[n, i, j, o]
 *
 * with out-of-image input pixels contributing nothing. Image by image (its x and dy stay in
 * cache), tap by tap, each tap's valid output rectangle swept with the outer products of three
 * input channels and eight output channels in registers. Shapes (float32): x [batch, inH, inW,
 * inC], dy [batch, outH, outW, outC], dw [fh, fw, inC, outC] (overwritten).
 */
export function conv2dBackpropFilter(
  x: usize, dy: usize, dw: usize,
  batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, top: i32, left: i32,
): void {
  memory.fill(dw, 0, <usize>(fh * fw * inC * outC) << 2);
  const xPix = <usize>inC << 2;
  const dyPix = <usize>outC << 2;
  const xColStep = <usize>sw * xPix;
  const tapBytes = <usize>(inC * outC) << 2;
  for (let n = 0; n < batch; n++) {
    const xImg = x + <usize>n * <usize>(inH * inW) * xPix;
    const dyImg = dy + <usize>n * <usize>(outH * outW) * dyPix;
    for (let p = 0; p < fh; p++) {
      // Output rows i with 0 ≤ i·sh + p − top < inH.
      const i0 = max(0, ceilDiv(top - p, sh));
      const i1 = min(outH, ceilDiv(inH + top - p, sh));
      if (i0 >= i1) continue;
      for (let q = 0; q < fw; q++) {
        const j0 = max(0, ceilDiv(left - q, sw));
        const j1 = min(outW, ceilDiv(inW + left - q, sw));
        if (j0 >= j1) continue;
        const dwTap = dw + <usize>(p * fw + q) * tapBytes;
        const rowOff = p - top;
        const colOff = j0 * sw + q - left;
        for (let c0 = 0; c0 < inC; c0 += CI_GROUP) {
          const nc = min(CI_GROUP, inC - c0);
          const x1: usize = nc > 1 ? 4 : 0;
          const x2: usize = nc > 2 ? 8 : 0;
          for (let o0 = 0; o0 < outC; o0 += CO_BLOCK) {
            const no = min(CO_BLOCK, outC - o0);
            // Literal channel counts for the common blocks: the inlined sweep then has no
            // lane or channel branches (the last case keeps them).
            if (nc == 3 && no == 8) {
              sweep(xImg, dyImg, dwTap, i0, i1, j0, j1, rowOff, colOff, inW, outW, sh, xPix, xColStep, dyPix, c0, 4, 8, 3, o0, outC, 4, 4);
            } else if (nc == 3 && no == 6) {
              sweep(xImg, dyImg, dwTap, i0, i1, j0, j1, rowOff, colOff, inW, outW, sh, xPix, xColStep, dyPix, c0, 4, 8, 3, o0, outC, 4, 2);
            } else if (nc == 1 && no == 6) {
              sweep(xImg, dyImg, dwTap, i0, i1, j0, j1, rowOff, colOff, inW, outW, sh, xPix, xColStep, dyPix, c0, 0, 0, 1, o0, outC, 4, 2);
            } else {
              sweep(xImg, dyImg, dwTap, i0, i1, j0, j1, rowOff, colOff, inW, outW, sh, xPix, xColStep, dyPix, c0, x1, x2, nc, o0, outC, min(4, no), no - 4);
            }
          }
        }
      }
    }
  }
}
