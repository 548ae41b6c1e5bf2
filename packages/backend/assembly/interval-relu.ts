// AssemblyScript source of PcIntervalRelu's and PcIntervalReluGrad's wasm loops: the same float32
// operations, in the same order, as the composite tfjs formulation, so the results are
// bit-identical to it (test/interval-relu-box.test.ts). `bytes` is a multiple of 16; the kernel
// finishes the last 0–3 elements with its JS loop.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/**
 * (mu, r) → (outMu, outR) = ((u + l)/2, (u − l)/2) with l = max(μ − r, 0), u = max(μ + r, 0).
 * pmax(x, 0) (x < 0 ? 0 : x) is one instruction and keeps a NaN x; wasm's max is a
 * NaN-canonicalizing sequence of ~8. They differ only in the sign of a zero.
 */
export function intervalRelu(mu: usize, r: usize, outMu: usize, outR: usize, bytes: usize): void {
  const zero = f32x4.splat(0);
  const half = f32x4.splat(0.5);
  for (let i: usize = 0; i < bytes; i += 16) {
    const m = v128.load(mu + i);
    const s = v128.load(r + i);
    const l = f32x4.pmax(f32x4.sub(m, s), zero);
    const u = f32x4.pmax(f32x4.add(m, s), zero);
    v128.store(outMu + i, f32x4.mul(f32x4.add(u, l), half));
    v128.store(outR + i, f32x4.mul(f32x4.sub(u, l), half));
  }
}

/**
 * (mu, r, dMu, dR) → (gMu, gR) = (gu + gl, gu − gl) with gu = [μ + r > 0]·(dMu + dR)/2 and
 * gl = [μ − r > 0]·(dMu − dR)/2 (relu's gradient is 0 at exactly 0).
 */
export function intervalReluGrad(mu: usize, r: usize, dMu: usize, dR: usize, gMu: usize, gR: usize, bytes: usize): void {
  const zero = f32x4.splat(0);
  const half = f32x4.splat(0.5);
  for (let i: usize = 0; i < bytes; i += 16) {
    const m = v128.load(mu + i);
    const s = v128.load(r + i);
    const a = f32x4.mul(v128.load(dMu + i), half);
    const b = f32x4.mul(v128.load(dR + i), half);
    const gu = v128.and(f32x4.add(a, b), f32x4.gt(f32x4.add(m, s), zero));
    const gl = v128.and(f32x4.sub(a, b), f32x4.gt(f32x4.sub(m, s), zero));
    v128.store(gMu + i, f32x4.add(gu, gl));
    v128.store(gR + i, f32x4.sub(gu, gl));
  }
}
