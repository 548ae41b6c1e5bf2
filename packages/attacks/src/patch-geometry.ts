import { PatchcertError, assert } from '@patchcert/backend';
import type { PatchThreat } from '@patchcert/bounds';

/**
 * The pixels a patch attacker controls, relative to the patch origin: a `height × width`
 * bounding box and, for shaped patches, which of its pixels belong to the patch. All channels
 * of a controlled pixel are free. Locations are the top-left origins `(row, col)` with
 * `0 ≤ row ≤ H − height`, `0 ≤ col ≤ W − width`, indexed row-major
 * `i = row · (W − width + 1) + col`, the same order as `@patchcert/bounds` threats.
 */
export interface PatchGeometry {
  /** Display name (`2x2`, `shape 5x5 (13 px)`). */
  readonly name: string;
  readonly height: number;
  readonly width: number;
  /** Row-major `height · width` 0/1 mask (1 = attacker controls the pixel). All ones for a rectangle. */
  readonly mask: Uint8Array;
  /** Origins `[row, col]` the patch is restricted to (a bounds threat built with `at`); undefined = every origin. */
  readonly fixedLocations?: readonly (readonly [number, number])[];
}

/**
 * Anything an attack accepts as its patch: a side length `n` (n×n square), a string `'2x2'` /
 * `'3x5'`, a `{ height, width, mask? }` object where `mask` is row-major 0/1 values or a 2-D
 * boolean/number array, or a `@patchcert/bounds` `PatchThreat` (`squarePatch(2)`,
 * `shapePatch(mask)`, `namedShape(…)`; its `stencil` and `fixedLocations` are honoured).
 */
export type PatchSpec =
  | PatchThreat
  | number
  | string
  | { height: number; width: number; mask?: ArrayLike<number> | ReadonlyArray<ReadonlyArray<number | boolean>>; name?: string }
  | { mask: ReadonlyArray<ReadonlyArray<number | boolean>>; name?: string };

function invalid(fn: string, thing: string, expected: string, actual: unknown): PatchcertError {
  return new PatchcertError('INVALID_OPTION', `Error in ${fn}: ${thing} must be ${expected}, but got ${describe(actual)}.`);
}

/** Short printable form of a value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean' || v === undefined || v === null) return String(v);
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return Object.prototype.toString.call(v);
  }
}

function isPosInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1;
}

/**
 * Normalises a {@link PatchSpec} into a {@link PatchGeometry}.
 *
 * @param spec - the patch description.
 * @param fn - the public function name used in error messages.
 * @returns the geometry.
 * @throws PatchcertError `INVALID_OPTION` for a malformed size or mask, or an empty mask.
 * @example
 * patchGeometry('2x2'); // { name: '2x2', height: 2, width: 2, mask: [1,1,1,1] }
 * patchGeometry({ mask: [[0, 1, 0], [1, 1, 1], [0, 1, 0]] }); // a plus shape
 */
export function patchGeometry(spec: PatchSpec, fn = 'patchGeometry'): PatchGeometry {
  if (typeof spec === 'number') {
    if (!isPosInt(spec)) throw invalid(fn, 'threat (a square patch side)', 'a positive integer', spec);
    return rect(spec, spec);
  }
  if (typeof spec === 'string') {
    const m = /^\s*(\d+)\s*(?:[x×]\s*(\d+))?\s*$/i.exec(spec);
    if (!m) throw invalid(fn, 'threat', "a patch size like '2x2' or '5'", spec);
    const h = Number(m[1]);
    const w = m[2] === undefined ? h : Number(m[2]);
    if (!isPosInt(h) || !isPosInt(w)) throw invalid(fn, 'threat', 'a patch size of at least 1x1', spec);
    return rect(h, w);
  }
  if (spec === null || typeof spec !== 'object') throw invalid(fn, 'threat', "a patch size, '2x2', or { height, width, mask? }", spec);
  const o = spec as Record<string, unknown>;
  if (o['kind'] === 'sparse') throw invalid(fn, 'threat', 'a patch (use sparseAttack for a sparse threat)', `sparse threat k=${String(o['k'])}`);
  const rawMask = o['mask'] ?? o['stencil'];
  let h = o['height'] ?? o['patchHeight'];
  let w = o['width'] ?? o['patchWidth'];
  if (Array.isArray(rawMask) && rawMask.length > 0 && Array.isArray(rawMask[0])) {
    const rows = rawMask as ReadonlyArray<ReadonlyArray<number | boolean>>;
    h ??= rows.length;
    w ??= rows[0]!.length;
    if (!isPosInt(h) || !isPosInt(w)) throw invalid(fn, 'threat height/width', 'positive integers', { height: h, width: w });
    if (rows.length !== h || rows.some((r) => !Array.isArray(r) || r.length !== w)) {
      throw invalid(fn, 'threat.mask', `a ${h}x${w} array of rows`, rows.map((r) => (Array.isArray(r) ? r.length : r)));
    }
    const mask = new Uint8Array(h * w);
    rows.forEach((r, i) => r.forEach((v, j) => (mask[i * (w as number) + j] = v ? 1 : 0)));
    return finish(fn, h, w, mask, o['name']);
  }
  if (!isPosInt(h) || !isPosInt(w)) throw invalid(fn, 'threat height/width', 'positive integers', { height: h, width: w });
  const fixed = readFixed(o['fixedLocations'], fn);
  if (rawMask === undefined || rawMask === null) return { ...rect(h, w, typeof o['name'] === 'string' ? o['name'] : undefined), ...fixed };
  const flat = rawMask as ArrayLike<number>;
  if (typeof flat !== 'object' || typeof flat.length !== 'number' || flat.length !== h * w) {
    throw invalid(fn, 'threat.mask', `${h * w} row-major values (height·width)`, Array.isArray(rawMask) ? `length ${rawMask.length}` : rawMask);
  }
  const mask = new Uint8Array(h * w);
  for (let i = 0; i < h * w; i++) mask[i] = flat[i] ? 1 : 0;
  return { ...finish(fn, h, w, mask, o['name']), ...fixed };
}

function readFixed(v: unknown, fn: string): { fixedLocations?: readonly (readonly [number, number])[] } {
  if (v === undefined || v === null) return {};
  if (!Array.isArray(v) || v.length === 0 || v.some((l) => !Array.isArray(l) || l.length !== 2 || !l.every((c) => Number.isInteger(c) && c >= 0))) {
    throw invalid(fn, 'threat.fixedLocations', 'a non-empty list of [row, col] origins', v);
  }
  return { fixedLocations: v.map((l: number[]) => [l[0]!, l[1]!] as const) };
}

function rect(h: number, w: number, name?: string): PatchGeometry {
  return { name: name ?? `${h}x${w}`, height: h, width: w, mask: new Uint8Array(h * w).fill(1) };
}

function finish(fn: string, h: number, w: number, mask: Uint8Array, name: unknown): PatchGeometry {
  let count = 0;
  for (const v of mask) count += v;
  assert(count > 0, () => `Error in ${fn}: threat.mask must select at least one pixel, but got an all-zero ${h}x${w} mask.`, 'INVALID_OPTION');
  const full = count === h * w;
  return { name: typeof name === 'string' ? name : full ? `${h}x${w}` : `shape ${h}x${w} (${count} px)`, height: h, width: w, mask };
}

/** Number of patch origins per axis and in total on an `imageHeight × imageWidth` image. */
export function locationGrid(g: PatchGeometry, imageHeight: number, imageWidth: number): { rows: number; cols: number; count: number } {
  const rows = imageHeight - g.height + 1;
  const cols = imageWidth - g.width + 1;
  return { rows, cols, count: rows > 0 && cols > 0 ? rows * cols : 0 };
}
