import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { subsetDataset, subsetIndices, type ImageDataset } from '@patchcert/datasets';
import { throwsCode } from './helpers.js';

const sub = suite('subsetIndices');

sub('should keep the first N for limit and all for no option or a limit past the end', () => {
  assert.equal(Array.from(subsetIndices(10, { limit: 3 })!), [0, 1, 2]);
  assert.is(subsetIndices(10, {}), undefined);
  assert.is(subsetIndices(10, { limit: 10 }), undefined);
  assert.is(subsetIndices(10, { limit: 50 }), undefined);
});

sub('should draw a sorted fixed sample per seed', () => {
  const a = Array.from(subsetIndices(1000, { sample: 20, seed: 3 })!);
  const b = Array.from(subsetIndices(1000, { sample: 20, seed: 3 })!);
  const c = Array.from(subsetIndices(1000, { sample: 20, seed: 4 })!);
  assert.equal(a, b);
  assert.not.equal(a, c);
  assert.is(new Set(a).size, 20);
  assert.equal(a, [...a].sort((p, q) => p - q));
  assert.ok(a[19]! > 100, 'a sample is spread over the set, not a prefix');
});

sub('should throw INVALID_OPTION for a bad count or both options', async () => {
  await throwsCode(() => subsetIndices(10, { limit: 0 }), 'INVALID_OPTION', /limit/);
  await throwsCode(() => subsetIndices(10, { sample: 1.5 }), 'INVALID_OPTION', /sample/);
  await throwsCode(() => subsetIndices(10, { limit: 2, sample: 2 }), 'INVALID_OPTION', /exclusive/);
  await throwsCode(() => subsetIndices(10, { sample: 2, seed: NaN }), 'INVALID_OPTION', /seed/);
});

sub.run();

// ---

const ds: ImageDataset = {
  name: 'toy',
  split: 'test',
  images: Uint8Array.from({ length: 5 * 2 }, (_, i) => i),
  labels: Uint8Array.from([0, 1, 2, 0, 1]),
  count: 5,
  shape: [1, 2, 1],
  classNames: ['a', 'b', 'c'],
  normalization: { mean: [0], std: [1] },
};

const sds = suite('subsetDataset');

sds('should copy the chosen items in order and keep the metadata', () => {
  const s = subsetDataset(ds, [4, 0]);
  assert.is(s.count, 2);
  assert.equal(Array.from(s.images), [8, 9, 0, 1]);
  assert.equal(Array.from(s.labels), [1, 0]);
  assert.equal(s.classNames, ds.classNames);
  assert.is(s.split, 'test');
});

sds('should throw INVALID_ARGUMENT for an index out of range', async () => {
  await throwsCode(() => subsetDataset(ds, [5]), 'INVALID_ARGUMENT', /indices\[0\]/);
});

sds.run();
