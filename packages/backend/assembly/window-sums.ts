// AssemblyScript source of PcWindowSums' wasm loop (see relu-elided-margins.ts for the setting).

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/**
 * For every window origin l = (r, c) of a gh × gw grid over an image of `features` values per
 * row of `width` pixels:
 *
 *   out[b, l, :] = Σ_t coef[b, o(l) + taps[t]] · weights[o(l) + taps[t], :]
 *
 * with o(l) = (r·width + c)·channels the feature index of the window's first pixel and `taps`
 * the feature offsets of the window's pixels and channels. This is a dense layer's change when
 * only the window's inputs change (coef = the change, weights = the kernel) or its radius
 * (coef = the input radii, weights = |kernel|). A zero coefficient adds nothing and is skipped.
 *
 * Shapes (float32): coef [batch, features], weights [features, units], taps int32 [tapCount],
 * out [batch, gh·gw, units].
 */
export function windowSums(
  coef: usize, weights: usize, taps: usize, out: usize,
  batch: i32, features: i32, units: i32, tapCount: i32, width: i32, channels: i32, gh: i32, gw: i32,
): void {
  const rowBytes = <usize>units << 2;
  const vecBytes = rowBytes & ~(<usize>15);
  const zero = f32x4.splat(0);
  let o = out;
  for (let b = 0; b < batch; b++) {
    const coefRow = coef + (<usize>(b * features) << 2);
    for (let r = 0; r < gh; r++) {
      for (let c = 0; c < gw; c++) {
        const origin = (r * width + c) * channels;
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
}
