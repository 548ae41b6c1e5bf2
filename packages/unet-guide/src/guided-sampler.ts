import { tf, assert, gumbelTopK, gumbelTopKLoop, type RandomWords } from '@patchcert/backend';
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

export type { RandomWords };

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
  const [batch, rows, cols, classes] = checkDraw('sampleGuidedLocations', shape, k, options);
  const cells = rows * cols;
  assert(
    prediction.length === batch * cells * classes,
    () => `Error in sampleGuidedLocations: prediction must have ${batch * cells * classes} values for shape [${shape.join(', ')}], but got ${prediction.length}.`,
    'SHAPE_MISMATCH',
  );
  const picks = new Int32Array(batch * classes * k);
  gumbelTopKLoop(prediction, batch, cells, classes, k, options.temperature ?? 1, (w) => rng.fillU32(w), picks);
  return sampleOfPicks(picks, shape, k, options.transposeCoordinates ?? false);
}

/**
 * {@link sampleGuidedLocations} on a prediction tensor: the same draw (the same words and
 * picks), by the backend's `PcGumbelTopK` kernel where it has one, so the map is not copied out
 * first and, on wasm, an {@link Rng}'s words are generated in the kernel.
 *
 * @param prediction - predicted margins `[batch, rows, cols, classes]`.
 */
export function sampleGuidedLocationsOf(prediction: tf.Tensor4D, k: number, rng: RandomWords, options: GuidedSamplerOptions = {}): GuidedSample {
  const shape = checkDraw('sampleGuidedLocationsOf', prediction.shape, k, options);
  return sampleOfPicks(gumbelTopK(prediction, k, rng, options.temperature ?? 1), shape, k, options.transposeCoordinates ?? false);
}

/** Validates a draw's shape, k and options; returns the shape. */
function checkDraw(caller: string, shape: readonly number[], k: number, options: GuidedSamplerOptions): [number, number, number, number] {
  const temperature = options.temperature ?? 1;
  assert(
    shape.length === 4 && shape.every((d) => Number.isInteger(d) && d >= 1),
    () => `Error in ${caller}: shape must be [batch, rows, cols, classes] of positive integers, but got [${shape.join(', ')}].`,
  );
  const [, rows, cols] = shape as [number, number, number, number];
  const cells = rows * cols;
  assert(Number.isInteger(k) && k >= 1 && k <= cells, () => `Error in ${caller}: k must be an integer in [1, ${cells}], but got ${k}.`);
  assert(Number.isFinite(temperature), () => `Error in ${caller}: temperature must be finite, but got ${temperature}.`, 'INVALID_OPTION');
  assert(
    !(options.transposeCoordinates ?? false) || rows === cols,
    () => `Error in ${caller}: transposeCoordinates needs a square location grid, but got ${rows}×${cols}.`,
    'INVALID_OPTION',
  );
  return shape as [number, number, number, number];
}

/** The sample of drawn cells `picks` `[batch, classes, k]`: repeats merged per image, locations padded. */
function sampleOfPicks(picks: Int32Array, shape: readonly [number, number, number, number], k: number, transpose: boolean): GuidedSample {
  const [batch, rows, cols, classes] = shape;
  const cells = rows * cols;
  const cellCounts = new Float32Array(batch * cells);
  const cellSlots = new Int32Array(batch * cells).fill(-1);
  const perImage: Int32Array[] = [];
  const counts = new Int32Array(batch);
  for (let n = 0, p = 0; n < batch; n++) {
    const distinct: number[] = [];
    for (let d = 0; d < classes * k; d++, p++) {
      const cell = picks[p]!;
      const at = n * cells + cell;
      if (cellCounts[at] === 0) {
        cellSlots[at] = distinct.length;
        distinct.push(transpose ? (cell % cols) * cols + Math.floor(cell / rows) : cell);
      }
      cellCounts[at]! += 1;
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
