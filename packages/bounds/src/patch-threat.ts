import { PatchcertError, assert } from '@patchcert/backend';

/** A location as the top-left corner `[row, col]` of the shape's bounding box. */
export type LocationOrigin = readonly [number, number];

/**
 * A patch threat model: the attacker controls the pixels of one fixed shape (a binary stencil)
 * placed at any location where its bounding box fits inside the image, or at a given list of
 * locations. Inside the stencil each pixel of every channel ranges over
 * `[max(0, x − eps), min(1, x + eps)]`; every other pixel keeps its value.
 *
 * Locations are enumerated row-major over the top-left corners of the bounding box: index
 * `i = row · (W − width + 1) + col` (reference-spec §6.3).
 */
export class PatchThreat {
  readonly kind = 'patch' as const;
  /** Display name, e.g. `square 5×5` or `diamond 25px`. */
  readonly name: string;
  /** Rows of the stencil's bounding box. */
  readonly height: number;
  /** Columns of the stencil's bounding box. */
  readonly width: number;
  /** Row-major `[height · width]` stencil, 1 on the pixels the attacker controls. */
  readonly stencil: Uint8Array;
  /** Number of pixels in the stencil. */
  readonly pixelCount: number;
  /** True when the stencil fills its bounding box (square or rectangle). */
  readonly isRectangle: boolean;
  /** The explicit locations, when the threat is restricted to them. */
  readonly fixedLocations: readonly LocationOrigin[] | undefined;

  /**
   * @param stencil - row-major `[height · width]` 0/1 values with at least one 1.
   * @throws PatchcertError `INVALID_ARGUMENT` for a bad size or an empty stencil.
   */
  constructor(height: number, width: number, stencil: ArrayLike<number>, name: string, fixedLocations?: readonly LocationOrigin[]) {
    assert(Number.isInteger(height) && height >= 1 && Number.isInteger(width) && width >= 1,
      () => `Error in PatchThreat: the stencil size must be positive integers, but got ${height}×${width}.`);
    assert(stencil.length === height * width,
      () => `Error in PatchThreat: the stencil must have height·width = ${height * width} entries, but got ${stencil.length}.`);
    this.height = height;
    this.width = width;
    this.stencil = Uint8Array.from(stencil, (v) => (v ? 1 : 0));
    this.pixelCount = this.stencil.reduce((s: number, v: number) => s + v, 0);
    assert(this.pixelCount > 0, () => 'Error in PatchThreat: the stencil must cover at least one pixel, but got none.');
    this.isRectangle = this.pixelCount === height * width;
    this.name = name;
    if (fixedLocations) {
      for (const loc of fixedLocations) {
        assert(Array.isArray(loc) && loc.length === 2 && Number.isInteger(loc[0]) && Number.isInteger(loc[1]) && loc[0] >= 0 && loc[1] >= 0,
          () => `Error in PatchThreat: each location must be [row, col] with non-negative integers, but got ${JSON.stringify(loc)}.`);
      }
      assert(fixedLocations.length > 0, () => 'Error in PatchThreat: the location list must not be empty, but got [].');
      this.fixedLocations = fixedLocations.map((l) => [l[0], l[1]] as const);
    } else {
      this.fixedLocations = undefined;
    }
  }

  /** Number of valid top-left rows and columns on an `h × w` image (the full grid). */
  grid(h: number, w: number): [number, number] {
    return [h - this.height + 1, w - this.width + 1];
  }

  /**
   * Checks the threat fits an `h × w` image.
   * @throws PatchcertError `INVALID_ARGUMENT` when the shape (or a fixed location) does not fit.
   */
  validate(h: number, w: number, fn = 'PatchThreat'): void {
    assert(this.height <= h && this.width <= w,
      () => `Error in ${fn}: the patch must fit inside the ${h}×${w} image, but got a ${this.height}×${this.width} patch.`);
    for (const [r, c] of this.fixedLocations ?? []) {
      assert(r + this.height <= h && c + this.width <= w,
        () => `Error in ${fn}: each location must keep the ${this.height}×${this.width} patch inside the ${h}×${w} image, but got [${r}, ${c}].`);
    }
  }

  /** Number of locations on an `h × w` image. */
  locations(h: number, w: number): number {
    if (this.fixedLocations) return this.fixedLocations.length;
    const [gh, gw] = this.grid(h, w);
    return Math.max(0, gh) * Math.max(0, gw);
  }

  /** Top-left corner `[row, col]` of location `i` on an `h × w` image. */
  locationOrigin(i: number, h: number, w: number): [number, number] {
    const n = this.locations(h, w);
    if (!(Number.isInteger(i) && i >= 0 && i < n)) {
      throw new PatchcertError('INVALID_ARGUMENT', `Error in locationOrigin: the location index must be an integer in [0, ${n - 1}], but got ${i}.`);
    }
    if (this.fixedLocations) {
      const o = this.fixedLocations[i]!;
      return [o[0], o[1]];
    }
    const gw = w - this.width + 1;
    return [Math.floor(i / gw), i % gw];
  }

  /** Row-major `[h · w]` 0/1 mask of the pixels the attacker controls at location `i`. */
  maskAt(i: number, h: number, w: number): Uint8Array {
    const [r0, c0] = this.locationOrigin(i, h, w);
    const m = new Uint8Array(h * w);
    for (let a = 0; a < this.height; a++) {
      for (let b = 0; b < this.width; b++) if (this.stencil[a * this.width + b]) m[(r0 + a) * w + c0 + b] = 1;
    }
    return m;
  }

  /** The same shape restricted to the given top-left corners. */
  at(locations: readonly LocationOrigin[]): PatchThreat {
    return new PatchThreat(this.height, this.width, this.stencil, `${this.name} at ${locations.length} locations`, locations);
  }
}

function checkSize(fn: string, thing: string, n: number): void {
  assert(Number.isInteger(n) && n >= 1, () => `Error in ${fn}: ${thing} must be a positive integer, but got ${n}.`, 'INVALID_OPTION');
}

/**
 * The paper's threat: an `n × n` square patch at all `(H−n+1)·(W−n+1)` locations, or only at
 * `options.at` (top-left corners).
 *
 * @throws PatchcertError `INVALID_OPTION` when `n` is not a positive integer.
 * @example
 * const threat = squarePatch(2); // 729 locations on MNIST
 */
export function squarePatch(n: number, options: { at?: readonly LocationOrigin[] } = {}): PatchThreat {
  checkSize('squarePatch', 'n', n);
  return new PatchThreat(n, n, new Uint8Array(n * n).fill(1), `square ${n}×${n}`, options.at);
}

/**
 * A filled rectangle of `height` rows and `width` columns (e.g. a line is 1×n or n×1).
 * @throws PatchcertError `INVALID_OPTION` for a non-positive size.
 */
export function rectanglePatch(height: number, width: number, options: { at?: readonly LocationOrigin[] } = {}): PatchThreat {
  checkSize('rectanglePatch', 'height', height);
  checkSize('rectanglePatch', 'width', width);
  return new PatchThreat(height, width, new Uint8Array(height * width).fill(1), `rectangle ${height}×${width}`, options.at);
}

/**
 * Any shape, given as a pixel mask: rows of 0/1 (or booleans), all of the same length. The
 * attacker controls the 1 pixels, at every location where the mask's bounding box fits.
 *
 * @throws PatchcertError `INVALID_ARGUMENT` for ragged or empty masks.
 */
export function shapePatch(mask: ReadonlyArray<ReadonlyArray<number | boolean>>, options: { name?: string; at?: readonly LocationOrigin[] } = {}): PatchThreat {
  assert(Array.isArray(mask) && mask.length > 0 && Array.isArray(mask[0]) && mask[0].length > 0,
    () => `Error in shapePatch: mask must be a non-empty array of rows, but got ${JSON.stringify(mask)?.slice(0, 60)}.`);
  const w = mask[0]!.length;
  for (const row of mask) {
    assert(Array.isArray(row) && row.length === w, () => `Error in shapePatch: every mask row must have ${w} entries, but got ${Array.isArray(row) ? row.length : typeof row}.`);
  }
  const flat = mask.flatMap((row) => row.map((v: number | boolean) => (v ? 1 : 0)));
  return new PatchThreat(mask.length, w, flat, options.name ?? `shape ${mask.length}×${w}`, options.at);
}
