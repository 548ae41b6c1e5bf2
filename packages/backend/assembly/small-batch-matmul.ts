// AssemblyScript source of two batched-product shapes of the wasm BatchMatMul (compiled by
// scripts/build-wasm.mjs into src/kernels/wasm/generated/): a row times a matrix and an outer
// product, per batch entry. Pointers are byte offsets into tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { loadLanes, storeLanes } from './lanes';

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
