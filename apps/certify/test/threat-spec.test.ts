import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { PatchcertError } from '@patchcert/backend';
import { parsePatchList, parseShapeList, rectangleVariants, parseSparseList, checkThreatsFit, patchSpec, sparseSpec } from '../src/internal/threat-spec.js';

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, PatchcertError);
    assert.is((err as PatchcertError).code, code);
    return;
  }
  assert.unreachable('should have thrown');
}

// ---
const patch = suite('parsePatchList');

patch('should parse squares, rectangles and bare sizes', () => {
  assert.equal(
    parsePatchList('2x2, 5×5,3x4,7').map((t) => t.id),
    ['patch:2x2', 'patch:5x5', 'patch:3x4', 'patch:7x7'],
  );
});

patch('should throw INVALID_OPTION for a zero or malformed size', () => {
  throwsCode(() => parsePatchList('0x2'), 'INVALID_OPTION');
  throwsCode(() => parsePatchList('2xa'), 'INVALID_OPTION');
  throwsCode(() => parsePatchList(','), 'INVALID_OPTION');
});

patch.run();

// ---
const shapes = suite('parseShapeList');

shapes('should give every stencil at every pixel count', () => {
  const ids = parseShapeList('4,16').map((t) => t.id);
  // 4 px: square, two lines, diamond, parallelogram; 16 px adds four rectangles.
  assert.is(ids.length, 14);
  assert.ok(ids.includes('shape:diamond:16'));
  assert.ok(ids.includes('shape:square:4'));
  assert.ok(ids.includes('shape:rectangle-2x8:16'));
  assert.not.ok(ids.some((id) => id.startsWith('shape:rectangle') && id.endsWith(':4')));
});

shapes('should keep only the named stencils, lines in both directions', () => {
  assert.equal(parseShapeList('25', 'line,diamond').map((t) => t.id), ['shape:line-horizontal:25', 'shape:line-vertical:25', 'shape:diamond:25']);
});

shapes('should throw INVALID_OPTION for an unknown stencil', () => {
  throwsCode(() => parseShapeList('4', 'circle'), 'INVALID_OPTION');
});

shapes.run();

// ---
const rects = suite('rectangleVariants');

rects('should give the shortest rectangles with at least the pixel count, both ways', () => {
  assert.equal(rectangleVariants(25), [[2, 13], [13, 2], [3, 9], [9, 3], [4, 7], [7, 4]]);
  assert.equal(rectangleVariants(16), [[2, 8], [8, 2], [3, 6], [6, 3]]);
});

rects('should give none for 4 pixels', () => {
  assert.equal(rectangleVariants(4), []);
});

rects.run();

// ---
const sparse = suite('parseSparseList');

sparse('should parse k values', () => {
  assert.equal(parseSparseList('1,4,10').map((t) => t.id), ['sparse:1', 'sparse:4', 'sparse:10']);
});

sparse('should throw INVALID_OPTION for k < 1', () => {
  throwsCode(() => parseSparseList('0'), 'INVALID_OPTION');
  throwsCode(() => parseSparseList('-3'), 'INVALID_OPTION');
  throwsCode(() => parseSparseList('1.5'), 'INVALID_OPTION');
});

sparse.run();

// ---
const fit = suite('checkThreatsFit');

fit('should accept a patch as large as the image', () => {
  checkThreatsFit([patchSpec(28, 28), sparseSpec(784)], 28, 28);
});

fit('should throw INVALID_OPTION for a patch larger than the image', () => {
  throwsCode(() => checkThreatsFit([patchSpec(2, 29)], 28, 28), 'INVALID_OPTION');
  throwsCode(() => checkThreatsFit([sparseSpec(785)], 28, 28), 'INVALID_OPTION');
});

fit.run();
