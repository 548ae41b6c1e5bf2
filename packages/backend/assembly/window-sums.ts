// AssemblyScript source of PcWindowSums' wasm loop (see relu-elided-margins.ts for the setting).

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/**
 * For every window q of image b, with first feature o = origins[b, q]:
 *
 *   out[b, q, :] = Σ_t coef[b, o + taps[t]] · weights[o + taps[t], :]
 *
 * `taps` are the feature offsets of the window's pixels and channels from its first one. This is
 * a dense layer's change when only the window's inputs change (coef = the change, weights = the
 * kernel) or its radius (coef = the input radii, weights = |kernel|). A zero coefficient adds
 * nothing and is skipped.
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
  const vecBytes = rowBytes & ~(<usize>15);
  const zero = f32x4.splat(0);
  let o = out;
  for (let b = 0; b < batch; b++) {
    const coefRow = coef + (coefShared ? 0 : <usize>(b * features) << 2);
    const originRow = origins + (originsShared ? 0 : <usize>(b * count) << 2);
    for (let q = 0; q < count; q++) {
      const origin = load<i32>(originRow + (<usize>q << 2));
      for (let i: usize = 0; i < vecBytes; i += 16) v128.store(o + i, zero);
      for (let i: usize = vecBytes; i < rowBytes; i += 4) store<f32>(o + i, 0);
      for (let t = 0; t < tapCount; t++) {
        const f = origin + load<i32>(taps + (<usize>t << 2));
        const s = load<f32>(coefRow + (<usize>f << 2));
        if (s == 0) continue;
        const sv = f32x4.splat(s);
        const w = weights + <usize>f * rowBytes;
        for (let i: usize = 0; i < vecBytes; i += 16) {
          v128.store(o + i, f32x4.add(v128.load(o + i), f32x4.mul(sv, v128.load(w + i))));
        }
        for (let i: usize = vecBytes; i < rowBytes; i += 4) store<f32>(o + i, load<f32>(o + i) + s * load<f32>(w + i));
      }
      o += rowBytes;
    }
  }
}
