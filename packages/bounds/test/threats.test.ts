import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import { squarePatch, rectanglePatch, shapePatch, namedShape, sparsePixels, inputBox } from '@patchcert/bounds';
import { CIFAR_NORM, randomImages, throwsCode } from './_helpers.js';

await initBackend('wasm');

const square = suite('squarePatch');
square('should enumerate (H−n+1)·(W−n+1) locations row-major', () => {
  const t = squarePatch(2);
  assert.is(t.locations(28, 28), 729);
  assert.is(squarePatch(5).locations(32, 32), 784);
  assert.equal(t.locationOrigin(0, 28, 28), [0, 0]);
  assert.equal(t.locationOrigin(26, 28, 28), [0, 26]);
  assert.equal(t.locationOrigin(27, 28, 28), [1, 0]);
  assert.equal(t.locationOrigin(728, 28, 28), [26, 26]);
});
square('should use only the given locations with options.at', () => {
  const t = squarePatch(3, { at: [[0, 0], [5, 2]] });
  assert.is(t.locations(8, 8), 2);
  assert.equal(t.locationOrigin(1, 8, 8), [5, 2]);
  throwsCode(() => t.validate(7, 7), 'INVALID_ARGUMENT');
});
square('should throw INVALID_OPTION for n < 1 and INVALID_ARGUMENT when larger than the image', () => {
  throwsCode(() => squarePatch(0), 'INVALID_OPTION');
  throwsCode(() => squarePatch(2.5), 'INVALID_OPTION');
  throwsCode(() => squarePatch(29).validate(28, 28), 'INVALID_ARGUMENT');
  throwsCode(() => squarePatch(2).locationOrigin(729, 28, 28), 'INVALID_ARGUMENT');
});
square.run();

// ---

const rect = suite('rectanglePatch');
rect('should have height rows and width columns of locations', () => {
  const t = rectanglePatch(1, 4);
  assert.is(t.locations(5, 6), 5 * 3);
  assert.is(t.pixelCount, 4);
  assert.ok(t.isRectangle);
  throwsCode(() => rectanglePatch(0, 3), 'INVALID_OPTION');
});
rect.run();

// ---

const shape = suite('shapePatch');
shape('should keep the stencil and enumerate where its bounding box fits', () => {
  const t = shapePatch([[0, 1], [1, 1]]);
  assert.is(t.pixelCount, 3);
  assert.not.ok(t.isRectangle);
  assert.is(t.locations(4, 5), 3 * 4);
  const m = t.maskAt(t.locations(4, 5) - 1, 4, 5);
  assert.equal(Array.from(m.slice(10)), [0, 0, 0, 0, 1, 0, 0, 0, 1, 1]);
});
shape('should throw INVALID_ARGUMENT for ragged or empty masks', () => {
  throwsCode(() => shapePatch([[1, 0], [1]]), 'INVALID_ARGUMENT');
  throwsCode(() => shapePatch([[0, 0]]), 'INVALID_ARGUMENT');
});
shape.run();

// ---

const named = suite('namedShape');
named('should give each paper shape the requested pixel count', () => {
  for (const px of [4, 16, 25]) {
    for (const name of ['square', 'line-horizontal', 'line-vertical', 'parallelogram', 'diamond'] as const) {
      if (name === 'diamond' && px === 25) assert.is(namedShape(name, px).height, 7);
      assert.is(namedShape(name, px).pixelCount, px, `${name} ${px}`);
    }
  }
  const p = namedShape('parallelogram', 4);
  assert.equal([p.height, p.width, Array.from(p.stencil)], [2, 3, [1, 1, 0, 0, 1, 1]]);
  assert.equal(Array.from(namedShape('diamond', 4).stencil), [0, 1, 0, 1, 0, 1, 0, 1, 0]);
});
named('should throw INVALID_OPTION for impossible counts and unknown names', () => {
  throwsCode(() => namedShape('square', 5), 'INVALID_OPTION');
  throwsCode(() => namedShape('diamond', 6), 'INVALID_OPTION');
  throwsCode(() => namedShape('circle' as never, 4), 'INVALID_OPTION');
});
named.run();

// ---

const sparse = suite('sparsePixels');
sparse('should record k and the bound kind', () => {
  assert.is(sparsePixels(4).k, 4);
  assert.is(sparsePixels(4, { tight: true }).tight, true);
  assert.is(sparsePixels(4).locations(), 1);
});
sparse('should throw INVALID_OPTION for k < 1', () => {
  throwsCode(() => sparsePixels(0), 'INVALID_OPTION');
  throwsCode(() => sparsePixels(1.5), 'INVALID_OPTION');
});
sparse.run();

// ---

const box = suite('inputBox');
box('should give patch pixels [max(0,x−eps), min(1,x+eps)] normalized and keep other pixels', () => {
  const rng = new Rng(5);
  const x = randomImages(rng, 2, [6, 5, 3]);
  const eps = 0.3;
  const threat = squarePatch(2);
  const loc = 7; // row 1, col 3
  const b = inputBox(x, threat, loc, eps, CIFAR_NORM);
  const lo = b.lower.arraySync() as number[][][][];
  const hi = b.upper.arraySync() as number[][][][];
  const px = x.arraySync() as number[][][][];
  for (let i = 0; i < 2; i++) for (let r = 0; r < 6; r++) for (let c = 0; c < 5; c++) for (let ch = 0; ch < 3; ch++) {
    const v = px[i]![r]![c]![ch]!;
    const inPatch = r >= 1 && r < 3 && c >= 3 && c < 5;
    const m = CIFAR_NORM.mean[ch]!;
    const s = CIFAR_NORM.std[ch]!;
    const eLo = ((inPatch ? Math.max(0, v - eps) : v) - m) / s;
    const eHi = ((inPatch ? Math.min(1, v + eps) : v) - m) / s;
    assert.ok(Math.abs(lo[i]![r]![c]![ch]! - eLo) < 1e-5 && Math.abs(hi[i]![r]![c]![ch]! - eHi) < 1e-5, `${i} ${r} ${c} ${ch}`);
  }
});
box('should throw for a patch larger than the image and a bad eps', () => {
  const x = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D;
  throwsCode(() => inputBox(x, squarePatch(4), 0, 1, { mean: [0], std: [1] }), 'INVALID_ARGUMENT');
  throwsCode(() => inputBox(x, squarePatch(2), 0, -1, { mean: [0], std: [1] }), 'INVALID_OPTION');
});
box.run();
