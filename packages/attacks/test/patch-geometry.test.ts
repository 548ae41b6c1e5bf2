import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { squarePatch, shapePatch, sparsePixels } from '@patchcert/bounds';
import { patchGeometry, locationGrid } from '@patchcert/attacks';
import { throwsCode } from './helpers.js';

const geometry = suite('patchGeometry');

geometry('should read a side, a size string and a rectangle object as full masks', () => {
  for (const [spec, h, w] of [[3, 3, 3], ['2x2', 2, 2], ['3x5', 3, 5], ['4', 4, 4], [{ height: 2, width: 3 }, 2, 3]] as const) {
    const g = patchGeometry(spec);
    assert.is(g.height, h, `${JSON.stringify(spec)}`);
    assert.is(g.width, w);
    assert.is(g.mask.length, h * w);
    assert.ok(g.mask.every((v) => v === 1));
  }
});

geometry('should read 2-D and flat masks of a shape', () => {
  const plus = patchGeometry({ mask: [[0, 1, 0], [1, 1, 1], [0, 1, 0]] });
  assert.equal(Array.from(plus.mask), [0, 1, 0, 1, 1, 1, 0, 1, 0]);
  assert.match(plus.name, /5 px/);
  const flat = patchGeometry({ height: 1, width: 3, mask: [1, 0, 1] });
  assert.equal(Array.from(flat.mask), [1, 0, 1]);
});

geometry('should accept bounds threats with their stencil and fixed locations', () => {
  const g = patchGeometry(squarePatch(2).at([[1, 2]]));
  assert.is(g.height, 2);
  assert.equal(g.fixedLocations, [[1, 2]]);
  const s = patchGeometry(shapePatch([[1, 0], [1, 1]]));
  assert.equal(Array.from(s.mask), [1, 0, 1, 1]);
});

geometry('should throw INVALID_OPTION for malformed sizes and masks', () => {
  throwsCode(() => patchGeometry(0), 'INVALID_OPTION');
  throwsCode(() => patchGeometry(2.5), 'INVALID_OPTION');
  throwsCode(() => patchGeometry('2by2'), 'INVALID_OPTION');
  throwsCode(() => patchGeometry({ height: 2, width: 2, mask: [1, 0, 1] }), 'INVALID_OPTION');
  throwsCode(() => patchGeometry({ mask: [[0, 0], [0, 0]] }), 'INVALID_OPTION');
  throwsCode(() => patchGeometry({ mask: [[1, 0], [1]] }), 'INVALID_OPTION');
  throwsCode(() => patchGeometry(null as never), 'INVALID_OPTION');
  throwsCode(() => patchGeometry(sparsePixels(3) as never), 'INVALID_OPTION');
});

geometry.run();

// ---

const grid = suite('locationGrid');

grid('should count every origin including the last row and column', () => {
  assert.equal(locationGrid(patchGeometry(2), 28, 28), { rows: 27, cols: 27, count: 729 });
  assert.equal(locationGrid(patchGeometry('3x5'), 32, 32), { rows: 30, cols: 28, count: 840 });
  assert.is(locationGrid(patchGeometry(5), 4, 4).count, 0);
});

grid.run();
