// AssemblyScript source of PcWindowSums' wasm loop (see relu-elided-margins.ts for the setting).

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/**
 * For every window q of image b, with first feature o = origins[b, q]:
 *
 *   out[b, q, :] = Σ_t coef[b, o + taps[t]] · weights[o + taps[t], :]
 *
 * `taps` are the feature offsets of the window's pixels and channels from its first one. This is
 * a dense layer's change when only the window's inputs change (coef = the change, weights = the
 * kernel) or its radius (coef = the input radii, weights = |kernel|). Taps go four at a time
 * with their coefficients splatted once per window, and each group's four products are summed
 * in registers before the output row is touched: summing tap by tap into the row read and wrote
 * it once per tap, which made the loop memory-bound (2×2 patch, 255 units: ~1.5 GB per
 * 256-image training step). The terms are added in tap order, as tap by tap.
 *
 * Shapes (float32 unless said): coef [batch, features] (or one row for every image when
 * `coefShared`), weights [features, units], origins int32 [batch, count] (or one list when
 * `originsShared`), taps int32 [tapCount], out [batch, count, units].
 */
export function windowSums(
  coef: usize, coefShared: i32, weights: usize, origins: usize, originsShared: i32, taps: usize, out: usize,
  batch: i32, features: i32, units: i32, count: i32, tapCount: i32,
): void {
  const rowBytes = <usize>units << 2;
  let o = out;
  for (let b = 0; b < batch; b++) {
    const coefRow = coef + (coefShared ? 0 : <usize>(b * features) << 2);
    const originRow = origins + (originsShared ? 0 : <usize>(b * count) << 2);
    for (let q = 0; q < count; q++) {
      sumWindowRow(coefRow, weights, load<i32>(originRow + (<usize>q << 2)), taps, tapCount, o, units);
      o += rowBytes;
    }
  }
}

/** One window's row: `o[:] = Σ_t coefRow[origin + taps[t]] · weights[origin + taps[t], :]` (units floats). */
@inline
export function sumWindowRow(coefRow: usize, weights: usize, origin: i32, taps: usize, tapCount: i32, o: usize, units: i32): void {
  const rowBytes = <usize>units << 2;
  const vecBytes = rowBytes & ~(<usize>15);
  if (tapCount == 0) {
    const zero = f32x4.splat(0);
    for (let i: usize = 0; i < vecBytes; i += 16) v128.store(o + i, zero);
    for (let i: usize = vecBytes; i < rowBytes; i += 4) store<f32>(o + i, 0);
  }
  for (let t0 = 0; t0 < tapCount; t0 += 4) {
    // Up to four taps; a missing one repeats the first tap's row with coefficient 0.
    const n = min(4, tapCount - t0);
    const tp = taps + (<usize>t0 << 2);
    const f0 = origin + load<i32>(tp);
    const f1 = n > 1 ? origin + load<i32>(tp, 4) : f0;
    const f2 = n > 2 ? origin + load<i32>(tp, 8) : f0;
    const f3 = n > 3 ? origin + load<i32>(tp, 12) : f0;
    const c0 = load<f32>(coefRow + (<usize>f0 << 2));
    const c1: f32 = n > 1 ? load<f32>(coefRow + (<usize>f1 << 2)) : 0;
    const c2: f32 = n > 2 ? load<f32>(coefRow + (<usize>f2 << 2)) : 0;
    const c3: f32 = n > 3 ? load<f32>(coefRow + (<usize>f3 << 2)) : 0;
    const s0 = f32x4.splat(c0);
    const s1 = f32x4.splat(c1);
    const s2 = f32x4.splat(c2);
    const s3 = f32x4.splat(c3);
    const w0 = weights + <usize>f0 * rowBytes;
    const w1 = weights + <usize>f1 * rowBytes;
    const w2 = weights + <usize>f2 * rowBytes;
    const w3 = weights + <usize>f3 * rowBytes;
    const first = t0 == 0;
    for (let i: usize = 0; i < vecBytes; i += 16) {
      let acc = first ? f32x4.mul(s0, v128.load(w0 + i)) : f32x4.add(v128.load(o + i), f32x4.mul(s0, v128.load(w0 + i)));
      acc = f32x4.add(acc, f32x4.mul(s1, v128.load(w1 + i)));
      acc = f32x4.add(acc, f32x4.mul(s2, v128.load(w2 + i)));
      acc = f32x4.add(acc, f32x4.mul(s3, v128.load(w3 + i)));
      v128.store(o + i, acc);
    }
    for (let i: usize = vecBytes; i < rowBytes; i += 4) {
      let acc: f32 = first ? c0 * load<f32>(w0 + i) : load<f32>(o + i) + c0 * load<f32>(w0 + i);
      acc += c1 * load<f32>(w1 + i);
      acc += c2 * load<f32>(w2 + i);
      acc += c3 * load<f32>(w3 + i);
      store<f32>(o + i, acc);
    }
  }
}
