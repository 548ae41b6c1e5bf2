import { PatchcertError, assert } from '@patchcert/backend';
import { PatchThreat, rectanglePatch, shapePatch } from './patch-threat.js';

/** The shapes of the paper's transfer experiment (paper §5.4, Table 5). */
export const SHAPE_NAMES = ['square', 'line-horizontal', 'line-vertical', 'diamond', 'parallelogram'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

/**
 * A named shape with a given pixel count, as in the paper's shape-transfer table.
 *
 * The paper does not define its stencils; these are a **reconstruction** (reference-spec §13):
 * - `square`: √pixels × √pixels.
 * - `line-horizontal` / `line-vertical`: 1 × pixels / pixels × 1.
 * - `parallelogram`: an n×n square (n = √pixels) whose row i is shifted right by i columns,
 *   bounding box n × (2n − 1).
 * - `diamond`: a 45°-rotated square. When pixels = 2r² + 2r + 1 (1, 5, 13, 25, …) it is the
 *   filled L1 ball of radius r (25 pixels: r = 3); when pixels = 4r (4, 8, 16, …) it is the L1
 *   ring of radius r (4 pixels: the four neighbours of a centre, 16 pixels: r = 4).
 * Rectangles take two sizes: use {@link rectanglePatch}.
 *
 * @throws PatchcertError `INVALID_OPTION` for an unknown name or a pixel count the shape cannot
 *   have.
 */
export function namedShape(name: ShapeName, pixels: number): PatchThreat {
  assert(Number.isInteger(pixels) && pixels >= 1, () => `Error in namedShape: pixels must be a positive integer, but got ${pixels}.`, 'INVALID_OPTION');
  const side = Math.round(Math.sqrt(pixels));
  const needSquare = (): void =>
    assert(side * side === pixels, () => `Error in namedShape: pixels must be a perfect square for a ${name}, but got ${pixels}.`, 'INVALID_OPTION');
  switch (name) {
    case 'square': {
      needSquare();
      const t = rectanglePatch(side, side);
      return new PatchThreat(t.height, t.width, t.stencil, `square ${pixels}px`);
    }
    case 'line-horizontal':
      return new PatchThreat(1, pixels, new Uint8Array(pixels).fill(1), `line-horizontal ${pixels}px`);
    case 'line-vertical':
      return new PatchThreat(pixels, 1, new Uint8Array(pixels).fill(1), `line-vertical ${pixels}px`);
    case 'parallelogram': {
      needSquare();
      const mask = Array.from({ length: side }, (_, i) => Array.from({ length: 2 * side - 1 }, (_, j) => (j >= i && j < i + side ? 1 : 0)));
      return shapePatch(mask, { name: `parallelogram ${pixels}px` });
    }
    case 'diamond': {
      let radius = -1;
      let ring = false;
      for (let r = 0; 2 * r * r + 2 * r + 1 <= pixels; r++) if (2 * r * r + 2 * r + 1 === pixels) radius = r;
      if (radius < 0 && pixels % 4 === 0) {
        radius = pixels / 4;
        ring = true;
      }
      assert(radius >= 0, () => `Error in namedShape: pixels must be 2r²+2r+1 (filled diamond) or 4r (diamond ring) for a diamond, but got ${pixels}.`, 'INVALID_OPTION');
      const n = 2 * radius + 1;
      const mask = Array.from({ length: n }, (_, i) =>
        Array.from({ length: n }, (_, j) => {
          const d = Math.abs(i - radius) + Math.abs(j - radius);
          return ring ? (d === radius ? 1 : 0) : d <= radius ? 1 : 0;
        }),
      );
      return shapePatch(mask, { name: `diamond ${pixels}px` });
    }
    default:
      throw new PatchcertError('INVALID_OPTION', `Error in namedShape: name must be one of ${SHAPE_NAMES.join(', ')}, but got ${String(name)}.`);
  }
}
