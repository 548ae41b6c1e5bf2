import { PatchcertError } from '@patchcert/backend';

/** The five stencils of the paper's shape-transfer table (Table 5), in its column order. */
export const SHAPE_NAMES = ['square', 'rectangle', 'line', 'diamond', 'parallelogram'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

/**
 * One threat model the CLI certifies against, in plain data so it can cross to worker threads and
 * be stored in the JSON results.
 */
export type ThreatSpec =
  | { kind: 'patch'; id: string; height: number; width: number }
  | {
      kind: 'shape';
      id: string;
      /** The column of the shape table this threat belongs to. */
      shape: ShapeName;
      /**
       * The stencil certified: a `@patchcert/bounds` shape name (`square`, `line-horizontal`,
       * `line-vertical`, `diamond`, `parallelogram`) or `rectangle-<h>x<w>`.
       */
      variant: string;
      pixels: number;
    }
  | { kind: 'sparse'; id: string; k: number };

/** A patch of `height × width` pixels at every location (`patch:HxW`). */
export function patchSpec(height: number, width: number): ThreatSpec {
  return { kind: 'patch', id: `patch:${height}x${width}`, height, width };
}

/** One stencil of the shape table: column `shape`, certified stencil `variant` (`shape:<variant>:<pixels>`). */
export function shapeSpec(shape: ShapeName, pixels: number, variant: string = shape): ThreatSpec {
  return { kind: 'shape', id: `shape:${variant}:${pixels}`, shape, variant, pixels };
}

/**
 * The rectangles of the shape table at `pixels`: for each short side a ≥ 2 the shortest long
 * side b > a with a·b ≥ pixels (so some have slightly more pixels, as in the paper), in both
 * orientations. Squares and lines are their own columns. None exist for 4 pixels (the paper's "–").
 */
export function rectangleVariants(pixels: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let a = 2; a * a < pixels; a++) {
    const b = Math.ceil(pixels / a);
    if (b > a) out.push([a, b], [b, a]);
  }
  return out;
}

/**
 * The stencils certified for one column of the shape table; the table reports the worst
 * (lowest) certified accuracy over them, as the paper does for rectangles.
 */
export function shapeVariants(shape: ShapeName, pixels: number): ThreatSpec[] {
  switch (shape) {
    case 'line':
      return [shapeSpec('line', pixels, 'line-horizontal'), shapeSpec('line', pixels, 'line-vertical')];
    case 'rectangle':
      return rectangleVariants(pixels).map(([a, b]) => shapeSpec('rectangle', pixels, `rectangle-${a}x${b}`));
    default:
      return [shapeSpec(shape, pixels)];
  }
}

/** Any `k` pixels changed (`sparse:k`). */
export function sparseSpec(k: number): ThreatSpec {
  return { kind: 'sparse', id: `sparse:${k}`, k };
}

/** A human label: `2×2 patch`, `diamond (16 px)`, `sparse k=4`. */
export function threatLabel(t: ThreatSpec): string {
  switch (t.kind) {
    case 'patch':
      return `${t.height}×${t.width} patch`;
    case 'shape':
      return `${t.variant} (${t.pixels} px)`;
    case 'sparse':
      return `sparse k=${t.k}`;
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isInteger(n) || n < 1) {
    throw new PatchcertError('INVALID_OPTION', `Error in certify: ${what} must be an integer >= 1, but got '${text}'.`);
  }
  return n;
}

/**
 * Parses `--patch 2x2,5x5` (an `HxW` list; a bare `N` means `NxN`).
 * @throws PatchcertError `INVALID_OPTION` for a malformed entry or a size < 1.
 */
export function parsePatchList(value: string): ThreatSpec[] {
  const items = splitList(value);
  if (items.length === 0) throw new PatchcertError('INVALID_OPTION', `Error in certify: --patch must be a list like 2x2,5x5, but got '${value}'.`);
  return items.map((item) => {
    const m = /^(\S+?)\s*[x×]\s*(\S+)$/.exec(item);
    const [h, w] = m ? [m[1]!, m[2]!] : [item, item];
    return patchSpec(positiveInt(h, `--patch height in '${item}'`), positiveInt(w, `--patch width in '${item}'`));
  });
}

/**
 * Parses `--shapes 4,16,25`: pixel counts; each gives one row of the shape-transfer table, with
 * the stencils named in `names` (default all five of Table 5).
 * @throws PatchcertError `INVALID_OPTION` for a count < 1 or an unknown stencil name.
 */
export function parseShapeList(value: string, names: string = SHAPE_NAMES.join(',')): ThreatSpec[] {
  const counts = splitList(value).map((s) => positiveInt(s, '--shapes pixel count'));
  if (counts.length === 0) throw new PatchcertError('INVALID_OPTION', `Error in certify: --shapes must be a list of pixel counts like 4,16,25, but got '${value}'.`);
  const shapes = splitList(names).map((n) => {
    if (!(SHAPE_NAMES as readonly string[]).includes(n)) {
      throw new PatchcertError('INVALID_OPTION', `Error in certify: --shape-names must list shapes from ${SHAPE_NAMES.join(', ')}, but got '${n}'.`);
    }
    return n as ShapeName;
  });
  return counts.flatMap((px) => shapes.flatMap((s) => shapeVariants(s, px)));
}

/**
 * Parses `--sparse 1,4,10`: the number k of pixels the attacker may change.
 * @throws PatchcertError `INVALID_OPTION` for k < 1.
 */
export function parseSparseList(value: string): ThreatSpec[] {
  const items = splitList(value);
  if (items.length === 0) throw new PatchcertError('INVALID_OPTION', `Error in certify: --sparse must be a list like 1,4,10, but got '${value}'.`);
  return items.map((s) => sparseSpec(positiveInt(s, '--sparse k')));
}

/**
 * Checks that every patch and shape fits inside an image of `[height, width]`.
 * @throws PatchcertError `INVALID_OPTION` naming the first threat that does not fit.
 */
export function checkThreatsFit(threats: readonly ThreatSpec[], height: number, width: number): void {
  for (const t of threats) {
    if (t.kind === 'patch' && (t.height > height || t.width > width)) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in certify: --patch must fit inside the ${height}×${width} image, but got ${t.height}×${t.width}.`,
      );
    }
    if (t.kind === 'shape' && t.pixels > height * width) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in certify: --shapes pixel count must be at most ${height * width} (the ${height}×${width} image), but got ${t.pixels}.`,
      );
    }
    if (t.kind === 'sparse' && t.k > height * width) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in certify: --sparse k must be at most ${height * width} (pixels in the image), but got ${t.k}.`,
      );
    }
  }
}
