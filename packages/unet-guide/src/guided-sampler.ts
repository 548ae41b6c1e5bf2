import { Rng, assert } from '@patchcert/backend';
import { joinArrays } from './internal/join-arrays.js';

/** Options of {@link sampleGuidedLocations}. */
export interface GuidedSamplerOptions {
  /** T in softmax(−T·prediction). @defaultValue 1 */
  temperature?: number;
  /**
   * Reproduce the reference's transposed index → coordinate mapping (§7.2, quirk Q2): the draw
   * at prediction cell (r, c) bounds the patch at (c, r), so the U-Net learns a transposed map.
   * Needs a square location grid. @defaultValue false
   */
  transposeCoordinates?: boolean;
}

/** Where the sampler's noise comes from: an {@link Rng}, or a stand-in that replays its words. */
export type RandomWords = Pick<Rng, 'fillU32'>;

/**
 * Locations drawn for one batch. Draws repeated across classes of one image are merged, so
 * each distinct location is bounded once; images with fewer distinct locations than `width`
 * repeat their first one, which leaves the minimum over locations unchanged.
 */
export interface GuidedSample {
  /** Images in the batch. */
  batch: number;
  /** Location grid `[rows, cols]` (feasible top-left corners). */
  grid: [number, number];
  /** Draws per (image, class). */
  drawsPerClass: number;
  /** Classes (prediction channels). */
  classes: number;
  /** Locations per image in `locations` (the largest distinct count in the batch). */
  width: number;
  /** Row-major threat location indices `[batch * width]`, image-major (what `locationMargins` takes). */
  locations: Int32Array;
  /** Distinct locations of each image `[batch]`; entries past it in `locations` are repeats. */
  counts: Int32Array;
  /** The prediction cell of every draw `[batch, classes, k]`, class-major within an image. */
  picks: Int32Array;
  /** For every prediction cell `[batch * rows * cols]`: how many draws hit it. */
  cellCounts: Float32Array;
  /** For every prediction cell: its slot in the image's row of `locations`, or −1 if not drawn. */
  cellSlots: Int32Array;
}

/**
 * Draws, for every image and class, `k` distinct locations from softmax(−T·prediction) over the
 * location grid (reference §7.2) with Gumbel-top-k: the k largest of −T·pred + Gumbel noise are
 * a draw without replacement with exactly the distribution of sequential renormalized draws
 * (PyTorch's `multinomial(replacement=False)`). Runs in plain JS on the prediction's values, so
 * it never enters gradient code (tfjs has no TopK gradient) and takes its noise from `rng`.
 *
 * @param prediction - predicted margins `[batch, rows, cols, classes]`, flattened (NHWC).
 * @param shape - `[batch, rows, cols, classes]`.
 * @param k - draws per (image, class), 1 ≤ k ≤ rows·cols.
 * @param rng - the run's generator, or any source of its words: classes·rows·cols are taken per
 *   image, in image order (workers each draw a slice of a batch from the words the run's
 *   generator gave for that slice, and get what one process drawing all of it gets).
 * @returns the merged per-image location lists and the bookkeeping the U-Net loss needs.
 * @throws PatchcertError `INVALID_ARGUMENT` for a bad shape or k, `INVALID_OPTION` for a
 *   non-finite temperature or a transposed non-square grid.
 * @example
 * const s = sampleGuidedLocations(await pred.data(), [8, 27, 27, 10], 1, rng);
 * const lb = locationMargins(model, images, labels, threat, { locations: s.locations, eps });
 */
export function sampleGuidedLocations(
  prediction: ArrayLike<number>,
  shape: readonly [number, number, number, number],
  k: number,
  rng: RandomWords,
  options: GuidedSamplerOptions = {},
): GuidedSample {
  const [batch, rows, cols, classes] = shape;
  const temperature = options.temperature ?? 1;
  const transpose = options.transposeCoordinates ?? false;
  assert(
    shape.length === 4 && shape.every((d) => Number.isInteger(d) && d >= 1),
    () => `Error in sampleGuidedLocations: shape must be [batch, rows, cols, classes] of positive integers, but got [${shape.join(', ')}].`,
  );
  const cells = rows * cols;
  assert(
    prediction.length === batch * cells * classes,
    () => `Error in sampleGuidedLocations: prediction must have ${batch * cells * classes} values for shape [${shape.join(', ')}], but got ${prediction.length}.`,
    'SHAPE_MISMATCH',
  );
  assert(Number.isInteger(k) && k >= 1 && k <= cells, () => `Error in sampleGuidedLocations: k must be an integer in [1, ${cells}], but got ${k}.`);
  assert(Number.isFinite(temperature), () => `Error in sampleGuidedLocations: temperature must be finite, but got ${temperature}.`, 'INVALID_OPTION');
  assert(
    !transpose || rows === cols,
    () => `Error in sampleGuidedLocations: transposeCoordinates needs a square location grid, but got ${rows}×${cols}.`,
    'INVALID_OPTION',
  );

  const picks = new Int32Array(batch * classes * k);
  const cellCounts = new Float32Array(batch * cells);
  const cellSlots = new Int32Array(batch * cells).fill(-1);
  const perImage: Int32Array[] = [];
  const counts = new Int32Array(batch);
  const keys = new Float64Array(k);
  const idx = new Int32Array(k);
  // One image's noise, drawn in bulk in the order the loops below consume it (class, then cell).
  const noise = new Uint32Array(classes * cells);

  for (let n = 0; n < batch; n++) {
    const distinct: number[] = [];
    rng.fillU32(noise);
    for (let j = 0; j < classes; j++) {
      // Keep the k largest keys in a small array sorted descending; k is tiny (1-2 in the paper).
      // `kth` is the k-th key once k are kept (−∞ before), held in a local for the scan.
      let filled = 0;
      let kth = -Infinity;
      const noiseRow = j * cells;
      let at = n * cells * classes + j;
      for (let cell = 0; cell < cells; cell++, at += classes) {
        const a = -temperature * prediction[at]!;
        const bits = noise[noiseRow + cell]!;
        // Most cells cannot enter the top k: an upper bound of their Gumbel draw from a table
        // rules them out without the two logs. The same draws and keys as computing every key.
        if (a + GUMBEL_BUCKET_MAX[bits >>> BUCKET_SHIFT]! + BOUND_SLACK < kth) continue;
        const key = a + gumbelOf(bits);
        if (filled < k) {
          let p = filled++;
          while (p > 0 && keys[p - 1]! < key) { keys[p] = keys[p - 1]!; idx[p] = idx[p - 1]!; p--; }
          keys[p] = key;
          idx[p] = cell;
          if (filled === k) kth = keys[k - 1]!;
        } else if (key > kth) {
          let p = k - 1;
          while (p > 0 && keys[p - 1]! < key) { keys[p] = keys[p - 1]!; idx[p] = idx[p - 1]!; p--; }
          keys[p] = key;
          idx[p] = cell;
          kth = keys[k - 1]!;
        }
      }
      for (let d = 0; d < k; d++) {
        const cell = idx[d]!;
        picks[(n * classes + j) * k + d] = cell;
        const at = n * cells + cell;
        if (cellCounts[at] === 0) {
          cellSlots[at] = distinct.length;
          distinct.push(transpose ? (cell % cols) * cols + Math.floor(cell / rows) : cell);
        }
        cellCounts[at]! += 1;
      }
    }
    counts[n] = distinct.length;
    perImage.push(Int32Array.from(distinct));
  }

  const width = counts.reduce((a, b) => Math.max(a, b), 0);
  const locations = padLocations(perImage, width);
  return { batch, grid: [rows, cols], drawsPerClass: k, classes, width, locations, counts, picks, cellCounts, cellSlots };
}

/** Per-image location lists as one `[lists.length, width]` array, each padded with its first entry. */
function padLocations(lists: ArrayLike<number>[], width: number): Int32Array {
  const locations = new Int32Array(lists.length * width);
  lists.forEach((list, n) => {
    for (let i = 0; i < width; i++) locations[n * width + i] = list[i < list.length ? i : 0]!;
  });
  return locations;
}

/**
 * The sample of a whole batch from the samples of its consecutive slices (in order): what
 * {@link sampleGuidedLocations} returns for the batch when each slice was drawn with its part of
 * the batch's pre-drawn noise. `width` becomes the largest of the slices'.
 *
 * @throws PatchcertError `SHAPE_MISMATCH` when the parts differ in grid, classes or k.
 */
export function mergeGuidedSamples(parts: readonly GuidedSample[]): GuidedSample {
  assert(parts.length > 0, () => 'Error in mergeGuidedSamples: parts must hold at least one sample, but got none.');
  const first = parts[0]!;
  for (const p of parts) {
    assert(
      p.grid[0] === first.grid[0] && p.grid[1] === first.grid[1] && p.classes === first.classes && p.drawsPerClass === first.drawsPerClass,
      () => `Error in mergeGuidedSamples: every part must have grid ${first.grid.join('×')}, ${first.classes} classes and k = ${first.drawsPerClass}, but got ${p.grid.join('×')}, ${p.classes} and ${p.drawsPerClass}.`,
      'SHAPE_MISMATCH',
    );
  }
  if (parts.length === 1) return first;
  const concat = <A extends Int32Array | Float32Array>(make: (n: number) => A, pick: (p: GuidedSample) => A): A => joinArrays(make, parts.map(pick));
  const counts = concat((n) => new Int32Array(n), (p) => p.counts);
  const width = counts.reduce((a, b) => Math.max(a, b), 0);
  const lists = parts.flatMap((p) => Array.from({ length: p.batch }, (_, n) => p.locations.subarray(n * p.width, n * p.width + p.counts[n]!)));
  return {
    batch: counts.length,
    grid: first.grid,
    drawsPerClass: first.drawsPerClass,
    classes: first.classes,
    width,
    locations: padLocations(lists, width),
    counts,
    picks: concat((n) => new Int32Array(n), (p) => p.picks),
    cellCounts: concat((n) => new Float32Array(n), (p) => p.cellCounts),
    cellSlots: concat((n) => new Int32Array(n), (p) => p.cellSlots),
  };
}

/** A standard Gumbel draw from 32 random bits, −log(−log u) with u strictly inside (0, 1). */
function gumbelOf(bits: number): number {
  const u = (bits + 0.5) / 4294967296;
  return -Math.log(-Math.log(u));
}

/** Draws share a bucket when their top 16 bits agree. */
const BUCKET_SHIFT = 16;
/**
 * Absorbs rounding in the bound (far above the last-bit error of a key while |key| < 1e9); it
 * only lets more cells through to the exact key, so it never changes a pick.
 */
const BOUND_SLACK = 1e-6;
/** The largest Gumbel draw of each bucket (the draw is increasing in the bits). */
const GUMBEL_BUCKET_MAX = Float64Array.from({ length: 2 ** (32 - BUCKET_SHIFT) }, (_, b) => gumbelOf(((b + 1) * 2 ** BUCKET_SHIFT) - 1));
