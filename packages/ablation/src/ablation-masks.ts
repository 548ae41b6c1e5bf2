import type { Rng } from '@patchcert/backend';
import { checkInt } from './internal/fail.js';

/** The deterministic band families of derandomized smoothing. */
export type BandKind = 'column' | 'block';

/**
 * Fills `out` (length `count · height · width`) with `count` keep masks, each keeping `kKeep`
 * pixels drawn uniformly without replacement out of `height · width` (random ablation, Levine &
 * Feizi 2019). Uses a partial Fisher–Yates shuffle of `scratch`, a permutation of 0..d−1 that
 * persists across calls: a partial shuffle of any arrangement yields a uniform subset.
 *
 * @param rng - the generator to draw from.
 * @param out - the masks, 1 = keep, 0 = ablate; zeroed here first.
 * @param count - masks to draw.
 * @param d - pixels per image (`height · width`).
 * @param kKeep - pixels each mask keeps, in [0, d].
 * @param scratch - a permutation of 0..d−1 (see {@link identityPermutation}).
 * @throws PatchcertError INVALID_OPTION for a kKeep outside [0, d].
 */
export function randomKeepMasks(rng: Rng, out: Float32Array, count: number, d: number, kKeep: number, scratch: Int32Array): void {
  checkInt('randomKeepMasks', 'kKeep', kKeep, 0, d);
  out.fill(0, 0, count * d);
  for (let s = 0; s < count; s++) {
    const base = s * d;
    for (let i = 0; i < kKeep; i++) {
      const j = i + rng.int(d - i);
      const t = scratch[i]!;
      scratch[i] = scratch[j]!;
      scratch[j] = t;
      out[base + scratch[i]!] = 1;
    }
  }
}

/** The permutation 0..d−1, as scratch for {@link randomKeepMasks}. */
export function identityPermutation(d: number): Int32Array {
  return Int32Array.from({ length: d }, (_, i) => i);
}

/** How many bands a family has on an image: W columns or H·W blocks. */
export function bandCount(kind: BandKind, height: number, width: number): number {
  return kind === 'column' ? width : height * width;
}

/**
 * Writes the keep mask of band `band` into `out` at `offset` (`height · width` entries). A column
 * band b keeps columns b, b+1, …, b+s−1, wrapping past the right edge; a block band
 * b = r·W + c keeps the s×s block with top-left (r, c), wrapping in both directions.
 *
 * @param kind - `column` or `block`.
 * @param band - index in [0, {@link bandCount}).
 * @param bandWidth - s, in [1, width] (and [1, height] for blocks).
 */
export function writeBandMask(out: Float32Array, offset: number, kind: BandKind, band: number, height: number, width: number, bandWidth: number): void {
  out.fill(0, offset, offset + height * width);
  if (kind === 'column') {
    for (let t = 0; t < bandWidth; t++) {
      const col = (band + t) % width;
      for (let r = 0; r < height; r++) out[offset + r * width + col] = 1;
    }
    return;
  }
  const r0 = Math.floor(band / width);
  const c0 = band % width;
  for (let t = 0; t < bandWidth; t++) {
    const r = (r0 + t) % height;
    for (let u = 0; u < bandWidth; u++) out[offset + r * width + ((c0 + u) % width)] = 1;
  }
}

/**
 * All keep masks of a band family, `[bands · height · width]` (1 = keep).
 *
 * @throws PatchcertError INVALID_OPTION when bandWidth does not fit the image.
 */
export function bandMasks(kind: BandKind, height: number, width: number, bandWidth: number): Float32Array {
  checkInt('bandMasks', 'bandWidth', bandWidth, 1, kind === 'column' ? width : Math.min(height, width));
  const n = bandCount(kind, height, width);
  const out = new Float32Array(n * height * width);
  for (let b = 0; b < n; b++) writeBandMask(out, b * height * width, kind, b, height, width, bandWidth);
  return out;
}

/**
 * The most bands an m×m patch can meet: m + s − 1 columns, or (m + s − 1)² blocks (capped at
 * the number of bands, which changes no verdict since a margin never exceeds the band count).
 *
 * @param kind - `column` or `block`.
 * @param patchSize - m ≥ 1.
 * @param bandWidth - s ≥ 1.
 */
export function bandsMetByPatch(kind: BandKind, patchSize: number, bandWidth: number, height: number, width: number): number {
  const span = patchSize + bandWidth - 1;
  return kind === 'column' ? Math.min(span, width) : Math.min(span, height) * Math.min(span, width);
}
