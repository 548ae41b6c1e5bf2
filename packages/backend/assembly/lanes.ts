// Partial-vector helpers of patchcert's AssemblyScript loops: channel counts such as 6 leave
// vectors with fewer than 4 lanes, read and written here without touching the floats after them.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/** The first `n` (≤ 0…4) floats at `p` as a vector, zeros after: never reads past them. */
@inline
export function loadLanes(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  if (n == 2) return v128.load64_zero(p);
  if (n == 1) return v128.load32_zero(p);
  if (n == 3) return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
  return f32x4.splat(0);
}

/** Adds the first `n` (≤ 0…4) lanes of `v` to the floats at `p`. */
@inline
export function addLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, f32x4.add(v128.load(p), v));
    return;
  }
  if (n == 2) {
    // One 8-byte load and store rather than two scalar round trips (C = 6 leaves 2 lanes).
    v128.store64_lane(p, f32x4.add(v128.load64_zero(p), v), 0);
    return;
  }
  if (n > 0) store<f32>(p, load<f32>(p) + f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, load<f32>(p, 4) + f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, load<f32>(p, 8) + f32x4.extract_lane(v, 2), 8);
}


/** Stores the first `n` (≤ 0…4) lanes of `v` at `p`, leaving the floats after them alone. */
@inline
export function storeLanes(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  if (n == 2) {
    v128.store64_lane(p, v, 0);
    return;
  }
  if (n > 0) store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * a·b + c per lane: one fused multiply-add in the relaxed-SIMD build of the module (rounded once,
 * where the CPU has FMA), a multiply then an add in the plain build.
 */
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
