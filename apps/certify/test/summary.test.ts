import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { summarize, resultTables, formatTable } from '../src/summary.js';
import { parseShapeList, patchSpec } from '../src/internal/threat-spec.js';
import { syntheticResults } from './helpers/fixtures.js';

// ---
const sum = suite('summarize');

sum('should count certified and correct images per threat', () => {
  const r = syntheticResults();
  const s = summarize(r.threats, r.images);
  assert.is(s[0]!.threat, 'patch:2x2');
  assert.is(s[0]!.certified, 0.4);
  assert.is(s[0]!.clean, 0.9);
  assert.is(s[1]!.certified, 0.7);
  assert.is(s[1]!.images, 10);
});

sum('should count an image without a verdict as not certified', () => {
  const r = syntheticResults();
  const s = summarize([patchSpec(3, 3)], r.images);
  assert.is(s[0]!.certified, 0);
});

sum.run();

// ---
const tables = suite('resultTables');

tables('should lay out shapes as paper Table 5: a row per pixel count, a column per stencil, the worst variant', () => {
  const threats = parseShapeList('4,16', 'square,line');
  const summary = threats.map((t, i) => ({ threat: t.id, label: t.id, images: 10, clean: 0.9, certified: i / 10 }));
  const base = syntheticResults();
  const [table] = resultTables({ threats, summary, dataset: base.dataset, model: base.model });
  assert.equal(table!.header, ['dataset', 'pixels', 'square', 'rectangle', 'line', 'diamond', 'parallelogram']);
  assert.equal(table!.rows, [
    ['mnist', '4', '0.00', '–', '10.00', '–', '–'],
    ['mnist', '16', '30.00', '–', '40.00', '–', '–'],
  ]);
});

tables('should lay out sparse as Tables 4/7: clean / certified under the architecture', () => {
  const r = syntheticResults();
  const sparse = resultTables(r).find((t) => t.title.startsWith('Sparse'))!;
  assert.equal(sparse.header, ['dataset', 'k', 'mlp']);
  assert.equal(sparse.rows, [['mnist', '1', '90.00 / 70.00']]);
});

tables.run();

// ---
const fmt = suite('formatTable');

fmt('should align columns', () => {
  const text = formatTable({ title: 'T', header: ['a', 'bbb'], rows: [['xx', 'y']] });
  assert.is(text, 'T\na   bbb\n--  ---\nxx  y');
});

fmt.run();
