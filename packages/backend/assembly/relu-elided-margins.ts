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
// Not inlined: one call per row pair costs nothing next to its loops, and its four callers
// would otherwise each carry a copy.
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

/**
 * Packs the ReLU boxes of rows A and B (pre-ReLU center `xX`, radius `sX`, `bytes / 4` units) as
 * center/radius into `midX`/`radX`, and the byte offsets of the units active in either row into
 * `list`; returns the list's length in bytes.
 */
@inline
function reluPackPair(xA: usize, sA: usize, xB: usize, sB: usize, bytes: usize, midA: usize, radA: usize, midB: usize, radB: usize, list: usize, pack: usize): usize {
  const zero = f32x4.splat(0);
  const half = f32x4.splat(0.5);
  const laneOff = i32x4(0, 4, 8, 12);
  let n: usize = 0;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const mA = v128.load(xA + i);
    const dA = v128.load(sA + i);
    const mB = v128.load(xB + i);
    const dB = v128.load(sB + i);
    const hA = f32x4.add(mA, dA);
    const hB = f32x4.add(mB, dB);
    const active = i32x4.bitmask(v128.not(v128.and(f32x4.le(hA, zero), f32x4.le(hB, zero))));
    const uA = f32x4.pmax(hA, zero);
    const lA = f32x4.pmax(f32x4.sub(mA, dA), zero);
    const uB = f32x4.pmax(hB, zero);
    const lB = f32x4.pmax(f32x4.sub(mB, dB), zero);
    v128.store(midA + i, f32x4.mul(f32x4.add(uA, lA), half));
    v128.store(radA + i, f32x4.mul(f32x4.sub(uA, lA), half));
    v128.store(midB + i, f32x4.mul(f32x4.add(uB, lB), half));
    v128.store(radB + i, f32x4.mul(f32x4.sub(uB, lB), half));
    v128.store(list + n, i8x16.swizzle(i32x4.add(i32x4.splat(<i32>i), laneOff), v128.load(pack + (<usize>active << 4))));
    n += <usize>popcnt<i32>(active) << 2;
  }
  for (; i < bytes; i += 4) {
    const mA = load<f32>(xA + i);
    const dA = load<f32>(sA + i);
    const mB = load<f32>(xB + i);
    const dB = load<f32>(sB + i);
    const uA = max<f32>(mA + dA, 0);
    const lA = max<f32>(mA - dA, 0);
    const uB = max<f32>(mB + dB, 0);
    const lB = max<f32>(mB - dB, 0);
    store<f32>(midA + i, (uA + lA) * 0.5);
    store<f32>(radA + i, (uA - lA) * 0.5);
    store<f32>(midB + i, (uB + lB) * 0.5);
    store<f32>(radB + i, (uB - lB) * 0.5);
    store<i32>(list + n, <i32>i);
    if (!(mA + dA <= 0) || !(mB + dB <= 0)) n += 4;
  }
  return n;
}

/**
 * Packs the byte offsets of the inputs where row A or B has a nonzero center change (`xX`) or
 * radius (`sX`) into `list` (`bytes / 4` inputs); returns the list's length in bytes. A NaN
 * counts as nonzero.
 */
@inline
function nonzeroPackPair(xA: usize, sA: usize, xB: usize, sB: usize, bytes: usize, list: usize, pack: usize): usize {
  const zero = f32x4.splat(0);
  const laneOff = i32x4(0, 4, 8, 12);
  let n: usize = 0;
  let i: usize = 0;
  for (; i + 16 <= bytes; i += 16) {
    const none = v128.and(v128.and(f32x4.eq(v128.load(xA + i), zero), f32x4.eq(v128.load(sA + i), zero)), v128.and(f32x4.eq(v128.load(xB + i), zero), f32x4.eq(v128.load(sB + i), zero)));
    const active = i32x4.bitmask(v128.not(none));
    v128.store(list + n, i8x16.swizzle(i32x4.add(i32x4.splat(<i32>i), laneOff), v128.load(pack + (<usize>active << 4))));
    n += <usize>popcnt<i32>(active) << 2;
  }
  for (; i < bytes; i += 4) {
    store<i32>(list + n, <i32>i);
    if (!(load<f32>(xA + i) == 0 && load<f32>(sA + i) == 0 && load<f32>(xB + i) == 0 && load<f32>(sB + i) == 0)) n += 4;
  }
  return n;
}

/**
 * A dense layer in center/radius form for rows A and B over the packed inputs only:
 * `muX = biasX + Σ_u midX[u]·w[u, :]`, `rX = Σ_u radX[u]·a[u, :]` (`a` = |w|, rows of `out`
 * bytes), eight output columns at a time in registers. `list` holds `n` bytes of input byte
 * offsets; inputs not in it add nothing.
 */
@inline
function packedDensePair(
  midA: usize, radA: usize, midB: usize, radB: usize, list: usize, n: usize, w: usize, a: usize, biasA: usize, biasB: usize, out: usize,
  muA: usize, rA: usize, muB: usize, rB: usize,
): void {
  const zero = f32x4.splat(0);
  let j: usize = 0;
  for (; j + 32 <= out; j += 32) {
    let ma0 = v128.load(biasA + j);
    let ma1 = v128.load(biasA + j, 16);
    let mb0 = v128.load(biasB + j);
    let mb1 = v128.load(biasB + j, 16);
    let ra0 = zero;
    let ra1 = zero;
    let rb0 = zero;
    let rb1 = zero;
    for (let p: usize = 0; p < n; p += 4) {
      const u = <usize>load<i32>(list + p);
      const row = (u >> 2) * out + j;
      const ca = v128.load32_splat(midA + u);
      const sa = v128.load32_splat(radA + u);
      const cb = v128.load32_splat(midB + u);
      const sb = v128.load32_splat(radB + u);
      const w0 = v128.load(w + row);
      const w1 = v128.load(w + row, 16);
      const a0 = v128.load(a + row);
      const a1 = v128.load(a + row, 16);
      ma0 = f32x4.add(ma0, f32x4.mul(ca, w0));
      ma1 = f32x4.add(ma1, f32x4.mul(ca, w1));
      mb0 = f32x4.add(mb0, f32x4.mul(cb, w0));
      mb1 = f32x4.add(mb1, f32x4.mul(cb, w1));
      ra0 = f32x4.add(ra0, f32x4.mul(sa, a0));
      ra1 = f32x4.add(ra1, f32x4.mul(sa, a1));
      rb0 = f32x4.add(rb0, f32x4.mul(sb, a0));
      rb1 = f32x4.add(rb1, f32x4.mul(sb, a1));
    }
    v128.store(muA + j, ma0);
    v128.store(muA + j, ma1, 16);
    v128.store(muB + j, mb0);
    v128.store(muB + j, mb1, 16);
    v128.store(rA + j, ra0);
    v128.store(rA + j, ra1, 16);
    v128.store(rB + j, rb0);
    v128.store(rB + j, rb1, 16);
  }
  // The last 0–7 columns one at a time.
  for (; j < out; j += 4) {
    let ma = load<f32>(biasA + j);
    let mb = load<f32>(biasB + j);
    let ra: f32 = 0;
    let rb: f32 = 0;
    for (let p: usize = 0; p < n; p += 4) {
      const u = <usize>load<i32>(list + p);
      const row = (u >> 2) * out + j;
      const wv = load<f32>(w + row);
      const av = load<f32>(a + row);
      ma += load<f32>(midA + u) * wv;
      mb += load<f32>(midB + u) * wv;
      ra += load<f32>(radA + u) * av;
      rb += load<f32>(radB + u) * av;
    }
    store<f32>(muA + j, ma);
    store<f32>(muB + j, mb);
    store<f32>(rA + j, ra);
    store<f32>(rB + j, rb);
  }
}

/** pairMargins for rows whose labels may differ: one pair when they agree, else each row alone. */
@inline
function labelledPairMargins(
  zeroRow: usize, muA: usize, rA: usize, muB: usize, rB: usize, hasB: bool, yA: i32, yB: i32, oA: usize, oB: usize,
  pTab: usize, nTab: usize, eTab: usize, scratch: usize, units: i32, classes: i32,
): void {
  if (!hasB) {
    pairMargins(zeroRow, muA, rA, muA, rA, false, yA, oA, oA, pTab, nTab, eTab, scratch, units, classes);
  } else if (yA == yB) {
    pairMargins(zeroRow, muA, rA, muB, rB, true, yA, oA, oB, pTab, nTab, eTab, scratch, units, classes);
  } else {
    pairMargins(zeroRow, muA, rA, muA, rA, false, yA, oA, oA, pTab, nTab, eTab, scratch, units, classes);
    pairMargins(zeroRow, muB, rB, muB, rB, false, yB, oB, oB, pTab, nTab, eTab, scratch, units, classes);
  }
}

/** Bytes of a tail kernel's scratch: pairMargins' (u2 units), five buffers of `inUnits` and five of u2. */
@inline
function tailScratchBytes(inUnits: i32, u2: i32): usize {
  return pairScratchBytes(u2) + 5 * ((<usize>inUnits << 2) + 16) + 5 * ((<usize>u2 << 2) + 16);
}

/**
 * The last three layers of a bound at once, for rows whose box is a hidden layer's pre-ReLU
 * center `mu[q]` and radius `r[q]` (u1 floats each): the ReLU box, a dense layer (`w2`
 * [u1, u2], `a2` = |w2|, bias `b2` [u2]) in center/radius form, then reluElidedMargins' rule
 * (ReLU and the last dense layer merged with C, tables as there) with row q's label `labels[q]`.
 * Output [rows, classes].
 *
 * The dense layer's terms come from the units active in either row of a pair only (packed as in
 * pairMargins), output columns eight at a time in registers: a unit inactive over its box adds
 * nothing to the center or the radius. That is most of the 256 units after the 4-layer CNN's
 * first dense layer, which a dense matmul multiplies anyway.
 *
 * Scratch: tailScratchBytes(u1, u2) bytes.
 */
export function reluDenseReluMargins(
  mu: usize, r: usize, w2: usize, a2: usize, b2: usize, labels: usize,
  pTab: usize, nTab: usize, eTab: usize, out: usize, scratch: usize,
  rows: i32, u1: i32, u2: i32, classes: i32,
): void {
  fillPackTable(scratch);
  const in1 = <usize>u1 << 2;
  const in2 = <usize>u2 << 2;
  const cap1 = in1 + 16;
  const cap2 = in2 + 16;
  const midA = scratch + pairScratchBytes(u2);
  const radA = midA + cap1;
  const midB = radA + cap1;
  const radB = midB + cap1;
  const list = radB + cap1;
  const zeroRow = list + cap1;
  const muA = zeroRow + cap2;
  const rA = muA + cap2;
  const muB = rA + cap2;
  const rB = muB + cap2;
  memory.fill(zeroRow, 0, in2);
  for (let q = 0; q < rows; q += 2) {
    const hasB = q + 1 < rows;
    const xA = mu + <usize>q * in1;
    const sA = r + <usize>q * in1;
    const n = reluPackPair(xA, sA, hasB ? xA + in1 : xA, hasB ? sA + in1 : sA, in1, midA, radA, midB, radB, list, scratch);
    packedDensePair(midA, radA, midB, radB, list, n, w2, a2, b2, b2, in2, muA, rA, muB, rB);
    const yA = load<i32>(labels + (<usize>q << 2));
    const yB = hasB ? load<i32>(labels + (<usize>q << 2), 4) : yA;
    const oA = out + (<usize>q * <usize>classes << 2);
    labelledPairMargins(zeroRow, muA, rA, muB, rB, hasB, yA, yB, oA, oA + (<usize>classes << 2), pTab, nTab, eTab, scratch, u2, classes);
  }
}

/**
 * reluDenseReluMargins with the hidden box itself summed from a change: row q's pre-ReLU center
 * is `base[baseRows[q]] + dMu[q]·w1` and its radius `dR[q]·a1` (`w1` [f, u1], `a1` = |w1|), the
 * first dense layer after a conv window (bounds' conv-window plan: the window's change of the
 * flattened map, zero outside the cells the patch reaches). Only the inputs where either row of
 * a pair changes are multiplied.
 *
 * Scratch: tailScratchBytes(max(f, u1), u2) + 4·(4·u1 + 16) bytes.
 */
export function denseTailMargins(
  dMu: usize, dR: usize, w1: usize, a1: usize, base: usize, baseRows: usize,
  w2: usize, a2: usize, b2: usize, labels: usize,
  pTab: usize, nTab: usize, eTab: usize, out: usize, scratch: usize,
  rows: i32, f: i32, u1: i32, u2: i32, classes: i32,
): void {
  fillPackTable(scratch);
  const inF = <usize>f << 2;
  const in1 = <usize>u1 << 2;
  const in2 = <usize>u2 << 2;
  const capIn = (f > u1 ? inF : in1) + 16;
  const cap1 = in1 + 16;
  const cap2 = in2 + 16;
  const midA = scratch + pairScratchBytes(u2);
  const radA = midA + capIn;
  const midB = radA + capIn;
  const radB = midB + capIn;
  const list = radB + capIn;
  const zeroRow = list + capIn;
  const muA = zeroRow + cap2;
  const rA = muA + cap2;
  const muB = rA + cap2;
  const rB = muB + cap2;
  const hA = rB + cap2;
  const hrA = hA + cap1;
  const hB = hrA + cap1;
  const hrB = hB + cap1;
  memory.fill(zeroRow, 0, in2);
  for (let q = 0; q < rows; q += 2) {
    const hasB = q + 1 < rows;
    const xA = dMu + <usize>q * inF;
    const sA = dR + <usize>q * inF;
    const xB = hasB ? xA + inF : xA;
    const sB = hasB ? sA + inF : sA;
    const bA = base + <usize>load<i32>(baseRows + (<usize>q << 2)) * in1;
    const bB = hasB ? base + <usize>load<i32>(baseRows + (<usize>q << 2), 4) * in1 : bA;
    // The first dense layer from the inputs that change in either row.
    const n0 = nonzeroPackPair(xA, sA, xB, sB, inF, list, scratch);
    packedDensePair(xA, sA, xB, sB, list, n0, w1, a1, bA, bB, in1, hA, hrA, hB, hrB);
    // Then as reluDenseReluMargins.
    const n = reluPackPair(hA, hrA, hB, hrB, in1, midA, radA, midB, radB, list, scratch);
    packedDensePair(midA, radA, midB, radB, list, n, w2, a2, b2, b2, in2, muA, rA, muB, rB);
    const yA = load<i32>(labels + (<usize>q << 2));
    const yB = hasB ? load<i32>(labels + (<usize>q << 2), 4) : yA;
    const oA = out + (<usize>q * <usize>classes << 2);
    labelledPairMargins(zeroRow, muA, rA, muB, rB, hasB, yA, yB, oA, oA + (<usize>classes << 2), pTab, nTab, eTab, scratch, u2, classes);
  }
}
