// AssemblyScript source of PcReluElidedMargins' wasm loop (compiled by scripts/build-wasm.mjs
// into src/kernels/wasm/generated/). Every pointer is a byte offset into tfjs-backend-wasm's own
// memory, which the module imports; the module has no data, no heap and no runtime of its own.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/** Class columns per block: three 4-lane accumulators. */
const BLOCK: i32 = 12;

/** Stores the first `n` (0…4) lanes of `v` at `p`. */
@inline
function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * Margin lower bounds of the last dense layer merged with C = e_y − e_j, after the ReLU interval
 * rule, for rows (image b, location l) of a hidden layer given as center `base[b] + delta[b, l]`
 * and radius `rad[b, l]`:
 *
 *   out[b, l, j] = Σ_i μ'_i·D_y[i, j] − r'_i·|D_y[i, j]| + e_y[j]
 *
 * with (μ', r') the ReLU box of (μ, r), D_y = W[:, y] − W[:, j] and e_y = b_y − b_j (tables
 * `dTab`, `aTab` = |dTab|, `eTab`, per label y in blocks of 12 columns, zero-padded). A unit
 * with μ + r ≤ 0 is inactive everywhere in its box and adds nothing, so it is skipped: that is
 * most units of a trained network at most locations. NaN takes the active branch and reaches
 * the output (a NaN bound certifies nothing).
 *
 * Shapes (float32 unless said): delta [batch, total, units], base [batch, units], rad like
 * delta (or one image's [total, units] when `radShared`), labels int32 [batch], locs int32
 * [batch, count] location indices in [0, total) (or one list [count] for every image when
 * `locsShared`), dTab/aTab [classes, blocks, units, 12], eTab [classes, blocks, 12],
 * out [batch, count, classes].
 */
export function reluElidedMargins(
  delta: usize, base: usize, rad: usize, radShared: i32, labels: usize, locs: usize, locsShared: i32,
  dTab: usize, aTab: usize, eTab: usize, out: usize,
  batch: i32, total: i32, count: i32, units: i32, classes: i32,
): void {
  const blocks = (classes + BLOCK - 1) / BLOCK;
  const rowBytes = <usize>units << 2;
  const tabBlockBytes = <usize>(units * BLOCK) << 2;
  const zero = f32x4.splat(0);
  const half = f32x4.splat(0.5);
  for (let b = 0; b < batch; b++) {
    const y = load<i32>(labels + (<usize>b << 2));
    const baseRow = base + <usize>b * rowBytes;
    const locRow = locs + (locsShared ? 0 : (<usize>(b * count) << 2));
    for (let q = 0; q < count; q++) {
      const l = load<i32>(locRow + (<usize>q << 2));
      const dRow = delta + (<usize>b * <usize>total + <usize>l) * rowBytes;
      const rRow = rad + ((radShared ? 0 : <usize>b * <usize>total) + <usize>l) * rowBytes;
      const oRow = out + ((<usize>b * <usize>count + <usize>q) * <usize>classes << 2);
      for (let k = 0; k < blocks; k++) {
        const tab = <usize>(y * blocks + k) * tabBlockBytes;
        const e = eTab + (<usize>((y * blocks + k) * BLOCK) << 2);
        let acc0 = v128.load(e);
        let acc1 = v128.load(e, 16);
        let acc2 = v128.load(e, 32);
        let pd = dTab + tab;
        let pa = aTab + tab;
        // Four units at a time: their ReLU boxes in SIMD, then one accumulation step per unit
        // that is active somewhere in its box (`!(u <= 0)`: a NaN bound must not be dropped).
        let i: usize = 0;
        for (; i + 16 <= rowBytes; i += 16) {
          const m = f32x4.add(v128.load(baseRow + i), v128.load(dRow + i));
          const r = v128.load(rRow + i);
          const u = f32x4.add(m, r);
          const active = i32x4.bitmask(v128.not(f32x4.le(u, zero)));
          if (active != 0) {
            const lo = f32x4.max(f32x4.sub(m, r), zero);
            const vm = f32x4.mul(f32x4.add(u, lo), half);
            const vr = f32x4.mul(f32x4.sub(u, lo), half);
            if (active & 1) {
              const a = f32x4.splat(f32x4.extract_lane(vm, 0));
              const b = f32x4.splat(f32x4.extract_lane(vr, 0));
              acc0 = f32x4.sub(f32x4.add(acc0, f32x4.mul(a, v128.load(pd))), f32x4.mul(b, v128.load(pa)));
              acc1 = f32x4.sub(f32x4.add(acc1, f32x4.mul(a, v128.load(pd, 16))), f32x4.mul(b, v128.load(pa, 16)));
              acc2 = f32x4.sub(f32x4.add(acc2, f32x4.mul(a, v128.load(pd, 32))), f32x4.mul(b, v128.load(pa, 32)));
            }
            if (active & 2) {
              const a = f32x4.splat(f32x4.extract_lane(vm, 1));
              const b = f32x4.splat(f32x4.extract_lane(vr, 1));
              acc0 = f32x4.sub(f32x4.add(acc0, f32x4.mul(a, v128.load(pd, 48))), f32x4.mul(b, v128.load(pa, 48)));
              acc1 = f32x4.sub(f32x4.add(acc1, f32x4.mul(a, v128.load(pd, 64))), f32x4.mul(b, v128.load(pa, 64)));
              acc2 = f32x4.sub(f32x4.add(acc2, f32x4.mul(a, v128.load(pd, 80))), f32x4.mul(b, v128.load(pa, 80)));
            }
            if (active & 4) {
              const a = f32x4.splat(f32x4.extract_lane(vm, 2));
              const b = f32x4.splat(f32x4.extract_lane(vr, 2));
              acc0 = f32x4.sub(f32x4.add(acc0, f32x4.mul(a, v128.load(pd, 96))), f32x4.mul(b, v128.load(pa, 96)));
              acc1 = f32x4.sub(f32x4.add(acc1, f32x4.mul(a, v128.load(pd, 112))), f32x4.mul(b, v128.load(pa, 112)));
              acc2 = f32x4.sub(f32x4.add(acc2, f32x4.mul(a, v128.load(pd, 128))), f32x4.mul(b, v128.load(pa, 128)));
            }
            if (active & 8) {
              const a = f32x4.splat(f32x4.extract_lane(vm, 3));
              const b = f32x4.splat(f32x4.extract_lane(vr, 3));
              acc0 = f32x4.sub(f32x4.add(acc0, f32x4.mul(a, v128.load(pd, 144))), f32x4.mul(b, v128.load(pa, 144)));
              acc1 = f32x4.sub(f32x4.add(acc1, f32x4.mul(a, v128.load(pd, 160))), f32x4.mul(b, v128.load(pa, 160)));
              acc2 = f32x4.sub(f32x4.add(acc2, f32x4.mul(a, v128.load(pd, 176))), f32x4.mul(b, v128.load(pa, 176)));
            }
          }
          pd += BLOCK << 4;
          pa += BLOCK << 4;
        }
        // The last 0–3 units one by one.
        for (; i < rowBytes; i += 4) {
          const m = load<f32>(baseRow + i) + load<f32>(dRow + i);
          const r = load<f32>(rRow + i);
          const u = m + r;
          if (!(u <= 0)) {
            const lo = max<f32>(m - r, 0);
            const a = f32x4.splat((u + lo) * 0.5);
            const b = f32x4.splat((u - lo) * 0.5);
            acc0 = f32x4.sub(f32x4.add(acc0, f32x4.mul(a, v128.load(pd))), f32x4.mul(b, v128.load(pa)));
            acc1 = f32x4.sub(f32x4.add(acc1, f32x4.mul(a, v128.load(pd, 16))), f32x4.mul(b, v128.load(pa, 16)));
            acc2 = f32x4.sub(f32x4.add(acc2, f32x4.mul(a, v128.load(pd, 32))), f32x4.mul(b, v128.load(pa, 32)));
          }
          pd += BLOCK << 2;
          pa += BLOCK << 2;
        }
        const n = min(BLOCK, classes - k * BLOCK);
        const o = oRow + (<usize>(k * BLOCK) << 2);
        storeLanes(o, acc0, n);
        storeLanes(o + 16, acc1, n - 4);
        storeLanes(o + 32, acc2, n - 8);
      }
      // The y slot is exactly 0 (its column of D_y and e_y is 0; this also clears −0).
      store<f32>(oRow + (<usize>y << 2), 0);
    }
  }
}
