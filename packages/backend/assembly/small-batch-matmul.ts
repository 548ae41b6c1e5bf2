// AssemblyScript source of two batched-product shapes of the wasm BatchMatMul (compiled by
// scripts/build-wasm.mjs into src/kernels/wasm/generated/): a row times a matrix and an outer
// product, per batch entry. Pointers are byte offsets into tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { loadLanes, storeLanes, madd } from './lanes';

/**
 * out[b, :] = Σ_k a[b, k] · m[b, k, :] for every batch entry: a [batch, 1, k], m [batch, k, n],
 * out [batch, 1, n]. Four output columns a vector, the k terms summed in order.
 */
export function rowTimesMatrix(a: usize, m: usize, out: usize, batch: i32, k: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const whole = n & ~3;
  const tail = n & 3;
  for (let b = 0; b < batch; b++) {
    const ab = a + (<usize>(b * k) << 2);
    const mb = m + <usize>b * <usize>k * rowBytes;
    const ob = out + <usize>b * rowBytes;
    for (let j = 0; j < whole; j += 4) {
      let acc = f32x4.splat(0);
      let p = mb + (<usize>j << 2);
      for (let t = 0; t < k; t++) {
        acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(ab + (<usize>t << 2)), v128.load(p)));
        p += rowBytes;
      }
      v128.store(ob + (<usize>j << 2), acc);
    }
    if (tail > 0) {
      let acc = f32x4.splat(0);
      let p = mb + (<usize>whole << 2);
      for (let t = 0; t < k; t++) {
        acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(ab + (<usize>t << 2)), loadLanes(p, tail)));
        p += rowBytes;
      }
      storeLanes(ob + (<usize>whole << 2), acc, tail);
    }
  }
}

/**
 * out[b, i, j] = u[b, i] · v[b, j] for every batch entry: u [batch, m], v [batch, n],
 * out [batch, m, n].
 */
export function batchedOuter(u: usize, v: usize, out: usize, batch: i32, m: i32, n: i32): void {
  const rowBytes = <usize>n << 2;
  const whole = n & ~3;
  const tail = n & 3;
  let o = out;
  for (let b = 0; b < batch; b++) {
    const vb = v + <usize>b * rowBytes;
    for (let i = 0; i < m; i++) {
      const s = v128.load32_splat(u + (<usize>(b * m + i) << 2));
      for (let j = 0; j < whole; j += 4) v128.store(o + (<usize>j << 2), f32x4.mul(s, v128.load(vb + (<usize>j << 2))));
      if (tail > 0) storeLanes(o + (<usize>whole << 2), f32x4.mul(s, loadLanes(vb + (<usize>whole << 2), tail)), tail);
      o += rowBytes;
    }
  }
}

/** Rows of the inner dimension per pass: their slices of a and b stay in cache across tiles. */
const AT_CHUNK: i32 = 128;

/**
 * One 8 × 4 tile of Aᵀ·B over inner rows [r0, r1): the columns i0 … i0+7 of a (lanes; `lanes`
 * of them valid, the rest read as zeros) times the columns j0 … j0+nj−1 of b, added to the
 * tile's rows of outT [n, kPad].
 */
@inline
function atTile(a: usize, b: usize, outT: usize, k: i32, n: i32, kPad: i32, r0: i32, r1: i32, i0: i32, j0: i32, nj: i32, lanes: i32): void {
  const rowT = <usize>kPad << 2;
  const o0 = outT + <usize>j0 * rowT + (<usize>i0 << 2);
  let c00 = v128.load(o0);
  let c01 = v128.load(o0, 16);
  let c10 = nj > 1 ? v128.load(o0 + rowT) : c00;
  let c11 = nj > 1 ? v128.load(o0 + rowT, 16) : c00;
  let c20 = nj > 2 ? v128.load(o0 + 2 * rowT) : c00;
  let c21 = nj > 2 ? v128.load(o0 + 2 * rowT, 16) : c00;
  let c30 = nj > 3 ? v128.load(o0 + 3 * rowT) : c00;
  let c31 = nj > 3 ? v128.load(o0 + 3 * rowT, 16) : c00;
  let pa = a + (<usize>(r0 * k + i0) << 2);
  let pb = b + (<usize>(r0 * n + j0) << 2);
  const strideA = <usize>k << 2;
  const strideB = <usize>n << 2;
  for (let r = r0; r < r1; r++) {
    const a0 = lanes >= 8 ? v128.load(pa) : loadLanes(pa, min(lanes, 4));
    const a1 = lanes >= 8 ? v128.load(pa, 16) : loadLanes(pa + 16, lanes - 4);
    const s0 = v128.load32_splat(pb);
    c00 = madd(a0, s0, c00);
    c01 = madd(a1, s0, c01);
    if (nj > 1) {
      const s1 = v128.load32_splat(pb, 4);
      c10 = madd(a0, s1, c10);
      c11 = madd(a1, s1, c11);
    }
    if (nj > 2) {
      const s2 = v128.load32_splat(pb, 8);
      c20 = madd(a0, s2, c20);
      c21 = madd(a1, s2, c21);
    }
    if (nj > 3) {
      const s3 = v128.load32_splat(pb, 12);
      c30 = madd(a0, s3, c30);
      c31 = madd(a1, s3, c31);
    }
    pa += strideA;
    pb += strideB;
  }
  v128.store(o0, c00);
  v128.store(o0, c01, 16);
  if (nj > 1) { v128.store(o0 + rowT, c10); v128.store(o0 + rowT, c11, 16); }
  if (nj > 2) { v128.store(o0 + 2 * rowT, c20); v128.store(o0 + 2 * rowT, c21, 16); }
  if (nj > 3) { v128.store(o0 + 3 * rowT, c30); v128.store(o0 + 3 * rowT, c31, 16); }
}

/**
 * out = aᵀ·b for a [m, k], b [m, n], out [k, n] (a dense layer's weight gradient xᵀ·dy) without
 * transposing a: tiles of 8 columns of a (two vectors) × 4 columns of b in registers, summed over
 * the m rows in order, in passes of AT_CHUNK rows; the tiles go to outT [n, kPad] (kPad = k
 * rounded up to 8; the host zeroes it), transposed into out at the end.
 */
export function matMulTransposeA(a: usize, b: usize, outT: usize, out: usize, m: i32, k: i32, n: i32): void {
  const kPad = (k + 7) & ~7;
  const whole = k & ~7;
  for (let r0 = 0; r0 < m; r0 += AT_CHUNK) {
    const r1 = min(m, r0 + AT_CHUNK);
    for (let i0 = 0; i0 < kPad; i0 += 8) {
      const lanes = i0 < whole ? 8 : k - i0;
      for (let j0 = 0; j0 < n; j0 += 4) {
        const nj = min(4, n - j0);
        // Literal lane and column counts for the common tiles: no branches inside their loop.
        if (lanes == 8 && nj == 4) atTile(a, b, outT, k, n, kPad, r0, r1, i0, j0, 4, 8);
        else if (lanes == 8) atTile(a, b, outT, k, n, kPad, r0, r1, i0, j0, nj, 8);
        else atTile(a, b, outT, k, n, kPad, r0, r1, i0, j0, nj, lanes);
      }
    }
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < n; j++) store<f32>(out + (<usize>(i * n + j) << 2), load<f32>(outT + (<usize>(j * kPad + i) << 2)));
  }
}
