// AssemblyScript source of PcReluElidedMargins' wasm loop (compiled by scripts/build-wasm.mjs
// into src/kernels/wasm/generated/). Every pointer is a byte offset into tfjs-backend-wasm's own
// memory, which the module imports; the module has no data, no heap and no runtime of its own.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { sumWindowRow } from './window-sums';

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

/** Bytes of the lane-packing table at the start of `scratch`: 16 masks × one i8x16 shuffle. */
const PACK_BYTES: usize = 256;

/**
 * Writes the lane-packing table: entry `mask` is the i8x16 shuffle that moves the 32-bit lanes
 * whose bit is set in `mask` to the front, in order (the rest read index 0x80, i.e. zero).
 */
@inline
function fillPackTable(table: usize): void {
  for (let mask = 0; mask < 16; mask++) {
    const e = table + (<usize>mask << 4);
    v128.store(e, i8x16.splat(-128));
    let n: usize = 0;
    for (let lane = 0; lane < 4; lane++) {
      if (mask & (1 << lane)) {
        for (let byte = 0; byte < 4; byte++) store<u8>(e + (n << 2) + <usize>byte, lane * 4 + byte);
        n++;
      }
    }
  }
}

/**
 * The margins of one pair of rows A and B of an image with label `y` (see reluElidedMargins for
 * the rule and the tables). Row X's hidden center is `base + dX` and its radius `rX` (pointers
 * to `units` floats). Writes `classes` floats at `oA`, and at `oB` when `hasB`.
 *
 * Two phases without a data-dependent branch: the ReLU boxes of four units at a time go to the
 * row buffers, and the indices of the units active in A or B are packed to the front of a list
 * by one shuffle; then the packed units' terms, each table vector loaded once for both rows.
 * Branching per unit instead mispredicted on ~half of them (active units follow no pattern a
 * predictor learns), and the term is formed before it is added so an accumulator waits on one
 * add per unit.
 */
@inline
function pairMargins(
  base: usize, dA: usize, rA: usize, dB: usize, rB: usize, hasB: bool, y: i32, oA: usize, oB: usize,
  pTab: usize, nTab: usize, eTab: usize, scratch: usize, units: i32, classes: i32,
): void {
  const blocks = (classes + BLOCK - 1) / BLOCK;
  const rowBytes = <usize>units << 2;
  const tabBlockBytes = <usize>(units * BLOCK) << 2;
  const zero = f32x4.splat(0);
  const pack = scratch;
  const cap = rowBytes + 16;
  const loA = scratch + PACK_BYTES;
  const hiA = loA + cap;
  const loB = hiA + cap;
  const hiB = loB + cap;
  const active4 = hiB + cap;
  // Byte offsets of four consecutive units.
  const laneOff = i32x4(0, 4, 8, 12);
  // Phase 1: ReLU boxes; `n` counts the packed list's bytes. pmax(x, 0) is one instruction and
  // keeps NaN (x < 0 is false); wasm's max needs a NaN-canonicalizing sequence.
  let n: usize = 0;
  let i: usize = 0;
  for (; i + 16 <= rowBytes; i += 16) {
    const m = v128.load(base + i);
    const mA = f32x4.add(m, v128.load(dA + i));
    const mB = f32x4.add(m, v128.load(dB + i));
    const sA = v128.load(rA + i);
    const sB = v128.load(rB + i);
    const uA = f32x4.add(mA, sA);
    const uB = f32x4.add(mB, sB);
    const active = i32x4.bitmask(v128.not(v128.and(f32x4.le(uA, zero), f32x4.le(uB, zero))));
    v128.store(loA + i, f32x4.pmax(f32x4.sub(mA, sA), zero));
    v128.store(hiA + i, f32x4.pmax(uA, zero));
    v128.store(loB + i, f32x4.pmax(f32x4.sub(mB, sB), zero));
    v128.store(hiB + i, f32x4.pmax(uB, zero));
    v128.store(active4 + n, i8x16.swizzle(i32x4.add(i32x4.splat(<i32>i), laneOff), v128.load(pack + (<usize>active << 4))));
    n += <usize>popcnt<i32>(active) << 2;
  }
  // The last 0–3 units one by one.
  for (; i < rowBytes; i += 4) {
    const m = load<f32>(base + i);
    const mA = m + load<f32>(dA + i);
    const mB = m + load<f32>(dB + i);
    const sA = load<f32>(rA + i);
    const sB = load<f32>(rB + i);
    store<f32>(loA + i, max<f32>(mA - sA, 0));
    store<f32>(hiA + i, max<f32>(mA + sA, 0));
    store<f32>(loB + i, max<f32>(mB - sB, 0));
    store<f32>(hiB + i, max<f32>(mB + sB, 0));
    store<i32>(active4 + n, <i32>i);
    if (!(mA + sA <= 0) || !(mB + sB <= 0)) n += 4;
  }
  // Phase 2: the packed units' terms, per block of 12 classes.
  for (let k = 0; k < blocks; k++) {
    const tab = <usize>(y * blocks + k) * tabBlockBytes;
    const pp = pTab + tab;
    const pn = nTab + tab;
    const e = eTab + (<usize>((y * blocks + k) * BLOCK) << 2);
    let a0 = v128.load(e);
    let a1 = v128.load(e, 16);
    let a2 = v128.load(e, 32);
    let b0 = a0;
    let b1 = a1;
    let b2 = a2;
    for (let p: usize = 0; p < n; p += 4) {
      const u = <usize>load<i32>(active4 + p);
      const o = u * BLOCK;
      const la = v128.load32_splat(loA + u);
      const ha = v128.load32_splat(hiA + u);
      const lb = v128.load32_splat(loB + u);
      const hb = v128.load32_splat(hiB + u);
      const p0 = v128.load(pp + o);
      const n0 = v128.load(pn + o);
      a0 = f32x4.add(a0, f32x4.add(f32x4.mul(la, p0), f32x4.mul(ha, n0)));
      b0 = f32x4.add(b0, f32x4.add(f32x4.mul(lb, p0), f32x4.mul(hb, n0)));
      const p1 = v128.load(pp + o, 16);
      const n1 = v128.load(pn + o, 16);
      a1 = f32x4.add(a1, f32x4.add(f32x4.mul(la, p1), f32x4.mul(ha, n1)));
      b1 = f32x4.add(b1, f32x4.add(f32x4.mul(lb, p1), f32x4.mul(hb, n1)));
      const p2 = v128.load(pp + o, 32);
      const n2 = v128.load(pn + o, 32);
      a2 = f32x4.add(a2, f32x4.add(f32x4.mul(la, p2), f32x4.mul(ha, n2)));
      b2 = f32x4.add(b2, f32x4.add(f32x4.mul(lb, p2), f32x4.mul(hb, n2)));
    }
    const c = min(BLOCK, classes - k * BLOCK);
    const at = <usize>(k * BLOCK) << 2;
    storeLanes(oA + at, a0, c);
    storeLanes(oA + at + 16, a1, c - 4);
    storeLanes(oA + at + 32, a2, c - 8);
    if (hasB) {
      storeLanes(oB + at, b0, c);
      storeLanes(oB + at + 16, b1, c - 4);
      storeLanes(oB + at + 32, b2, c - 8);
    }
  }
  // The y slot is exactly 0 (its column of D_y and e_y is 0; this also clears −0).
  store<f32>(oA + (<usize>y << 2), 0);
  if (hasB) store<f32>(oB + (<usize>y << 2), 0);
}

/** Bytes of pairMargins' scratch for `units` hidden units: the packing table and five row buffers. */
@inline
function pairScratchBytes(units: i32): usize {
  return PACK_BYTES + 5 * ((<usize>units << 2) + 16);
}

/**
 * Margin lower bounds of the last dense layer merged with C = e_y − e_j, after the ReLU interval
 * rule, for rows (image b, location l) of a hidden layer given as center `μ = base[b] + delta[b, l]`
 * and radius `r = rad[b, l]`:
 *
 *   out[b, l, j] = Σ_i lo_i·P_y[i, j] + hi_i·N_y[i, j] + e_y[j]
 *
 * with [lo, hi] = [max(μ − r, 0), max(μ + r, 0)] the ReLU box, D_y = W[:, y] − W[:, j] split into
 * P_y = max(D_y, 0) and N_y = min(D_y, 0) (a unit's lowest term over its box), and e_y = b_y − b_j
 * (tables `pTab`, `nTab`, `eTab`, per label y in blocks of 12 columns, zero-padded). A unit with
 * μ + r ≤ 0 adds nothing: 40-65% of the (location, unit) pairs of an MLP. Rows go in pairs (two
 * locations of one image, whose active units nearly agree) through pairMargins. NaN propagates
 * and reaches the output: a NaN bound certifies nothing.
 *
 * Shapes (float32 unless said): delta [batch, total, units], base [batch, units], rad like
 * delta (or one image's [total, units] when `radShared`), labels int32 [batch], locs int32
 * [batch, count] location indices in [0, total) (or one list [count] for every image when
 * `locsShared`), pTab/nTab [classes, blocks, units, 12], eTab [classes, blocks, 12],
 * out [batch, count, classes]; scratch: 256 + 5·(4·units + 16) bytes.
 */
export function reluElidedMargins(
  delta: usize, base: usize, rad: usize, radShared: i32, labels: usize, locs: usize, locsShared: i32,
  pTab: usize, nTab: usize, eTab: usize, out: usize, scratch: usize,
  batch: i32, total: i32, count: i32, units: i32, classes: i32,
): void {
  const rowBytes = <usize>units << 2;
  fillPackTable(scratch);
  for (let b = 0; b < batch; b++) {
    const y = load<i32>(labels + (<usize>b << 2));
    const locRow = locs + (locsShared ? 0 : (<usize>(b * count) << 2));
    const radImage = rad + (radShared ? 0 : <usize>b * <usize>total * rowBytes);
    const deltaImage = delta + <usize>b * <usize>total * rowBytes;
    for (let q = 0; q < count; q += 2) {
      // Rows A = q and B = q + 1 (A again for an odd last row; B is then not stored).
      const hasB = q + 1 < count;
      const lA = <usize>load<i32>(locRow + (<usize>q << 2));
      const lB = hasB ? <usize>load<i32>(locRow + (<usize>q << 2), 4) : lA;
      const oA = out + ((<usize>b * <usize>count + <usize>q) * <usize>classes << 2);
      pairMargins(
        base + <usize>b * rowBytes, deltaImage + lA * rowBytes, radImage + lA * rowBytes, deltaImage + lB * rowBytes, radImage + lB * rowBytes,
        hasB, y, oA, oA + (<usize>classes << 2), pTab, nTab, eTab, scratch, units, classes,
      );
    }
  }
}

/**
 * reluElidedMargins with each row's center change and radius summed from its window on the fly
 * (windowSums' rule) instead of read from [batch, total, units] tensors: window q of image b,
 * first feature o = origins[b, q], has
 *
 *   delta = Σ_t coef[b, o + t]·weights[o + t, :],   rad = Σ_t radCoef[b, o + t]·absWeights[o + t, :].
 *
 * Those tensors were ~24 MB per 32 images at 2×2 (MNIST MLP): written by windowSums and read
 * back here, the pair cost more in memory traffic than in arithmetic; the four rows of a pair now
 * live in `scratch`.
 *
 * Shapes: coef, radCoef [batch, features] (or one row for every image when `coefShared` /
 * `radShared`), weights, absWeights [features, units], origins int32 [batch, count] (or one list
 * when `originsShared`), taps int32 [tapCount]; the rest as reluElidedMargins; scratch:
 * 256 + 9·(4·units + 16) bytes, plus 4·count·units when `radShared` and `originsShared`.
 */
export function windowReluMargins(
  coef: usize, coefShared: i32, weights: usize, radCoef: usize, radShared: i32, absWeights: usize,
  origins: usize, originsShared: i32, taps: usize, tapCount: i32, base: usize, labels: usize,
  pTab: usize, nTab: usize, eTab: usize, out: usize, scratch: usize,
  batch: i32, features: i32, count: i32, units: i32, classes: i32,
): void {
  const rowBytes = <usize>units << 2;
  fillPackTable(scratch);
  const cap = rowBytes + 16;
  const dA = scratch + pairScratchBytes(units);
  const rA = dA + cap;
  const dB = rA + cap;
  const rB = dB + cap;
  // One radius row per window for every image when neither the radii nor the windows depend on
  // the image (eps ≥ 1 on a shared location list): summed once, [count, units] after the rows.
  const radOnce = radShared != 0 && originsShared != 0;
  const radRows = rB + cap;
  if (radOnce) {
    for (let q = 0; q < count; q++) sumWindowRow(radCoef, absWeights, load<i32>(origins + (<usize>q << 2)), taps, tapCount, radRows + <usize>q * rowBytes, units);
  }
  for (let b = 0; b < batch; b++) {
    const y = load<i32>(labels + (<usize>b << 2));
    const coefRow = coef + (coefShared ? 0 : <usize>(b * features) << 2);
    const radRow = radCoef + (radShared ? 0 : <usize>(b * features) << 2);
    const originRow = origins + (originsShared ? 0 : (<usize>(b * count) << 2));
    for (let q = 0; q < count; q += 2) {
      const hasB = q + 1 < count;
      const oA = load<i32>(originRow + (<usize>q << 2));
      const oB = hasB ? load<i32>(originRow + (<usize>q << 2), 4) : oA;
      sumWindowRow(coefRow, weights, oA, taps, tapCount, dA, units);
      if (hasB) sumWindowRow(coefRow, weights, oB, taps, tapCount, dB, units);
      let radA = radRows + <usize>q * rowBytes;
      let radB = hasB ? radA + rowBytes : radA;
      if (!radOnce) {
        sumWindowRow(radRow, absWeights, oA, taps, tapCount, rA, units);
        if (hasB) sumWindowRow(radRow, absWeights, oB, taps, tapCount, rB, units);
        radA = rA;
        radB = hasB ? rB : rA;
      }
      const out0 = out + ((<usize>b * <usize>count + <usize>q) * <usize>classes << 2);
      pairMargins(
        base + <usize>b * rowBytes, dA, radA, hasB ? dB : dA, radB,
        hasB, y, out0, out0 + (<usize>classes << 2), pTab, nTab, eTab, scratch, units, classes,
      );
    }
  }
}
