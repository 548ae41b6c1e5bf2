// AssemblyScript source of the wasm direct convolution (FusedConv2D / Conv2D for few output
// channels, and the stride-1 phases of Conv2DBackpropInput), compiled by scripts/build-wasm.mjs
// into src/kernels/wasm/generated/. Pointers are byte offsets into tfjs-backend-wasm's memory.
//
// Why: XNNPACK vectorizes over output channels, so 6 or 12 of them leave lanes idle and its
// micro-kernels run a 3×3 6→6 convolution at ~8 G multiply-adds/s here. This loop computes a
// block of P neighbouring output pixels × all C output channels, P·C floats that are contiguous
// in NHWC, as V = P·C/4 full vectors held in registers; each vector's lanes take the input value
// of their own pixel (a splat, or two splats joined where a vector straddles two pixels) times a
// weight vector laid out in the same lane pattern beforehand.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { storeLanes, madd } from './lanes';

/** The input vector of accumulator v: the splat of the pixel its lanes belong to, or two joined. */
@inline
function lanesOf(v: i32, C: i32, s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const pa = (4 * v) / C;
  const pb = (4 * v + 3) / C;
  const a = pa == 0 ? s0 : pa == 1 ? s1 : pa == 2 ? s2 : s3;
  if (pa == pb) return a;
  const b = pb == 0 ? s0 : pb == 1 ? s1 : pb == 2 ? s2 : s3;
  // Lanes before pb·C − 4v come from pixel pa (4 lanes span at most two pixels for C ≥ 4).
  const k = pb * C - 4 * v;
  if (k == 1) return v128.shuffle<f32>(a, b, 0, 5, 6, 7);
  if (k == 2) return v128.shuffle<f32>(a, b, 0, 1, 6, 7);
  return v128.shuffle<f32>(a, b, 0, 1, 2, 7);
}

/** The i-th (literal) of the weight vectors. */
@inline
function pick(i: i32, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128): v128 {
  return i == 0 ? w0 : i == 1 ? w1 : i == 2 ? w2 : i == 3 ? w3 : i == 4 ? w4 : i == 5 ? w5 : i == 6 ? w6 : w7;
}

/** Stores accumulator v of a block whose first `floats` floats are inside the output row. */
@inline
function storeVector(yp: usize, acc: v128, v: i32, floats: i32, relu: bool): void {
  const out = relu ? f32x4.max(acc, f32x4.splat(0)) : acc;
  const first = 4 * v;
  if (first + 4 <= floats) v128.store(yp + (<usize>first << 2), out);
  else if (first < floats) storeLanes(yp + (<usize>first << 2), out, floats - first);
}

/**
 * The whole convolution for one (C, P) pair, both literals, so the V = P·C/4 accumulators, the
 * lane joins and the guards below fold to straight-line code.
 */
@inline
function convolve(
  x: usize, wpat: usize, bpat: usize, zero: usize, y: usize,
  batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, top: i32, left: i32, relu: bool,
  C: i32, P: i32,
): void {
  const V = (P * C) / 4;
  // Weight vectors per input channel: the lane pattern repeats every lcm(C, 4) floats, so a
  // block of V vectors loads only these R (3 for C = 6, though V = 6).
  const R = (C & 3) == 0 ? C / 4 : (C & 1) == 0 ? C / 2 : C;
  const pix = <usize>inC << 2;
  const step = <usize>sw * pix;
  const tapBytes = <usize>(inC * R) << 4;
  for (let n = 0; n < batch; n++) {
    const xImg = x + <usize>n * <usize>(inH * inW) * pix;
    for (let oy = 0; oy < outH; oy++) {
      const yRow = y + (<usize>((n * outH + oy) * outW) * <usize>C << 2);
      for (let ox = 0; ox < outW; ox += P) {
        let a0 = v128.load(bpat);
        let a1 = V > 1 ? v128.load(bpat, 16) : a0;
        let a2 = V > 2 ? v128.load(bpat, 32) : a0;
        let a3 = V > 3 ? v128.load(bpat, 48) : a0;
        let a4 = V > 4 ? v128.load(bpat, 64) : a0;
        let a5 = V > 5 ? v128.load(bpat, 80) : a0;
        let a6 = V > 6 ? v128.load(bpat, 96) : a0;
        let a7 = V > 7 ? v128.load(bpat, 112) : a0;
        for (let ky = 0; ky < fh; ky++) {
          const iy = oy * sh + ky - top;
          if (<u32>iy >= <u32>inH) continue;
          const xRow = xImg + <usize>(iy * inW) * pix;
          let wp = wpat + <usize>(ky * fw) * tapBytes;
          // A block whose pixels all read inside the row reads fw·inC consecutive floats per
          // pixel: one run of the channel loop instead of fw short ones.
          const ix0 = ox * sw - left;
          const inside = ix0 >= 0 && ix0 + (P - 1) * sw + fw - 1 < inW;
          const runs = inside ? 1 : fw;
          const length = inside ? fw * inC : inC;
          for (let kx = 0; kx < runs; kx++) {
            // Each pixel of the block reads its own input pixel, or zeros outside the image
            // (and past the row's end, where the block is cut: those lanes are not stored).
            const ix = ix0 + kx;
            let p0 = <u32>ix < <u32>inW ? xRow + <usize>ix * pix : zero;
            let p1 = P > 1 && <u32>(ix + sw) < <u32>inW ? xRow + <usize>ix * pix + step : zero;
            let p2 = P > 2 && <u32>(ix + 2 * sw) < <u32>inW ? xRow + <usize>ix * pix + 2 * step : zero;
            let p3 = P > 3 && <u32>(ix + 3 * sw) < <u32>inW ? xRow + <usize>ix * pix + 3 * step : zero;
            for (let c = 0; c < length; c++) {
              const s0 = v128.load32_splat(p0);
              const s1 = P > 1 ? v128.load32_splat(p1) : s0;
              const s2 = P > 2 ? v128.load32_splat(p2) : s0;
              const s3 = P > 3 ? v128.load32_splat(p3) : s0;
              const w0 = v128.load(wp);
              const w1 = R > 1 ? v128.load(wp, 16) : w0;
              const w2 = R > 2 ? v128.load(wp, 32) : w0;
              const w3 = R > 3 ? v128.load(wp, 48) : w0;
              const w4 = R > 4 ? v128.load(wp, 64) : w0;
              const w5 = R > 5 ? v128.load(wp, 80) : w0;
              const w6 = R > 6 ? v128.load(wp, 96) : w0;
              const w7 = R > 7 ? v128.load(wp, 112) : w0;
              a0 = madd(lanesOf(0, C, s0, s1, s2, s3), w0, a0);
              if (V > 1) a1 = madd(lanesOf(1, C, s0, s1, s2, s3), pick(1 % R, w0, w1, w2, w3, w4, w5, w6, w7), a1);
              if (V > 2) a2 = madd(lanesOf(2, C, s0, s1, s2, s3), pick(2 % R, w0, w1, w2, w3, w4, w5, w6, w7), a2);
              if (V > 3) a3 = madd(lanesOf(3, C, s0, s1, s2, s3), pick(3 % R, w0, w1, w2, w3, w4, w5, w6, w7), a3);
              if (V > 4) a4 = madd(lanesOf(4, C, s0, s1, s2, s3), pick(4 % R, w0, w1, w2, w3, w4, w5, w6, w7), a4);
              if (V > 5) a5 = madd(lanesOf(5, C, s0, s1, s2, s3), pick(5 % R, w0, w1, w2, w3, w4, w5, w6, w7), a5);
              if (V > 6) a6 = madd(lanesOf(6, C, s0, s1, s2, s3), pick(6 % R, w0, w1, w2, w3, w4, w5, w6, w7), a6);
              if (V > 7) a7 = madd(lanesOf(7, C, s0, s1, s2, s3), pick(7 % R, w0, w1, w2, w3, w4, w5, w6, w7), a7);
              p0 += 4;
              p1 += 4;
              p2 += 4;
              p3 += 4;
              wp += <usize>R << 4;
            }
          }
        }
        const yp = yRow + (<usize>(ox * C) << 2);
        const floats = min(P, outW - ox) * C;
        storeVector(yp, a0, 0, floats, relu);
        if (V > 1) storeVector(yp, a1, 1, floats, relu);
        if (V > 2) storeVector(yp, a2, 2, floats, relu);
        if (V > 3) storeVector(yp, a3, 3, floats, relu);
        if (V > 4) storeVector(yp, a4, 4, floats, relu);
        if (V > 5) storeVector(yp, a5, 5, floats, relu);
        if (V > 6) storeVector(yp, a6, 6, floats, relu);
        if (V > 7) storeVector(yp, a7, 7, floats, relu);
      }
    }
  }
}

/**
 * y[n, oy, ox, o] = bias[o] + Σ_{ky,kx,c} x[n, oy·sh + ky − top, ox·sw + kx − left, c]·w[ky, kx, c, o]
 * over in-image input pixels, then ReLU when `relu`; NHWC float32, dilation 1.
 *
 * `wpat` holds, per tap (ky, kx) and input channel c, the lcm(C, 4) / 4 vectors of the lane
 * pattern: float l is w[ky, kx, c, l mod C]; `bpat` the bias as V = P·C / 4 vectors, float l
 * being bias[l mod C] (zeros for none). `zero` points at inC zero floats. C must be one the
 * dispatch below lists (the host's directConvPixels(C) > 0, src/kernels/wasm/conv2d-direct.ts).
 */
export function conv2dDirect(
  x: usize, wpat: usize, bpat: usize, zero: usize, y: usize,
  batch: i32, inH: i32, inW: i32, inC: i32, outH: i32, outW: i32, outC: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, top: i32, left: i32, relu: bool,
): void {
  // One literal instantiation per channel count directConvPixels accepts.
  if (outC == 6) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 6, 4);
  else if (outC == 12) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 12, 2);
  else if (outC == 24) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 24, 1);
  else if (outC == 10) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 10, 2);
  else if (outC == 20) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 20, 1);
  else if (outC == 4) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 4, 4);
  else if (outC == 5) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 5, 4);
  else if (outC == 7) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 7, 4);
  else if (outC == 8) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 8, 4);
  else if (outC == 14) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 14, 2);
  else if (outC == 16) convolve(x, wpat, bpat, zero, y, batch, inH, inW, inC, outH, outW, fh, fw, sh, sw, top, left, relu, 16, 2);
}
