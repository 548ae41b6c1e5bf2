import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, Rng, tf } from '@patchcert/backend';
import { batches, datasetTensors, type ImageDataset } from '@patchcert/datasets';
import { throwsCode } from './helpers.js';

/** 10 images of 2×3×1 whose pixels encode their index, labels i % 4. */
function toy(count = 10): ImageDataset {
  const images = new Uint8Array(count * 6);
  for (let i = 0; i < images.length; i++) images[i] = (Math.floor(i / 6) * 20 + (i % 6)) & 255;
  return {
    name: 'toy',
    split: 'train',
    images,
    labels: Uint8Array.from({ length: count }, (_, i) => i % 4),
    count,
    shape: [2, 3, 1],
    classNames: ['a', 'b', 'c', 'd'],
    normalization: { mean: [0], std: [1] },
  };
}

function collect(ds: ImageDataset, opts: Parameters<typeof batches>[1]): { idx: number[]; x: number[]; y: number[]; shapes: number[][] } {
  const out = { idx: [] as number[], x: [] as number[], y: [] as number[], shapes: [] as number[][] };
  for (const b of batches(ds, opts)) {
    out.idx.push(...b.indices);
    out.x.push(...b.x.dataSync());
    out.y.push(...b.y.dataSync());
    out.shapes.push(b.x.shape);
    assert.is(b.x.dtype, 'float32');
    assert.is(b.y.dtype, 'int32');
    tf.dispose([b.x, b.y]);
  }
  return out;
}

const batch = suite('batches');

batch.before(async () => {
  await initBackend('cpu');
});

batch('should cover the dataset in order with a smaller last batch, pixels scaled to [0,1]', () => {
  const ds = toy();
  const r = collect(ds, { batchSize: 4 });
  assert.equal(r.idx, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(r.shapes, [[4, 2, 3, 1], [4, 2, 3, 1], [2, 2, 3, 1]]);
  assert.equal(r.y, [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
  assert.equal(r.x.slice(6, 12), Array.from(ds.images.subarray(6, 12), (v) => Math.fround(v / 255)));
});

batch('should shuffle the same way for the same seed and differently for another', () => {
  const ds = toy(50);
  const a = collect(ds, { batchSize: 8, shuffle: true, rng: new Rng(7) });
  const b = collect(ds, { batchSize: 8, shuffle: true, rng: new Rng(7) });
  const c = collect(ds, { batchSize: 8, shuffle: true, rng: new Rng(8) });
  assert.equal(a.idx, b.idx);
  assert.equal(a.x, b.x);
  assert.not.equal(a.idx, c.idx);
  assert.equal([...a.idx].sort((p, q) => p - q), Array.from({ length: 50 }, (_, i) => i));
  // Each batch's pixels and labels belong to the indices it reports.
  a.idx.forEach((i, k) => {
    assert.is(a.y[k], ds.labels[i]);
    assert.is(Math.round(a.x[k * 6]! * 255), ds.images[i * 6]);
  });
});

batch('should draw a new order each epoch from a continuing rng', () => {
  const ds = toy(30);
  const rng = new Rng(1);
  const e1 = collect(ds, { batchSize: 30, shuffle: true, rng });
  const e2 = collect(ds, { batchSize: 30, shuffle: true, rng });
  assert.not.equal(e1.idx, e2.idx);
});

batch('should augment deterministically per seed and keep shapes', () => {
  const ds = { ...toy(6), shape: [4, 4, 1] as [number, number, number], images: Uint8Array.from({ length: 96 }, (_, i) => 1 + (i % 200)) };
  const a = collect(ds, { batchSize: 6, augment: { padding: 1 }, rng: new Rng(3) });
  const b = collect(ds, { batchSize: 6, augment: { padding: 1 }, rng: new Rng(3) });
  const plain = collect(ds, { batchSize: 6 });
  assert.equal(a.x, b.x);
  assert.equal(a.shapes, [[6, 4, 4, 1]]);
  assert.not.equal(a.x, plain.x);
  // Zero padding shows up as exact zeros (the source images have none).
  assert.ok(a.x.some((v) => v === 0));
});

batch('should leave no tensors behind once the caller disposes each batch', () => {
  const before = tf.memory().numTensors;
  collect(toy(), { batchSize: 3, shuffle: true, rng: new Rng(0), augment: true });
  assert.is(tf.memory().numTensors, before);
});

batch('should throw INVALID_OPTION for a bad batch size or a missing rng', async () => {
  await throwsCode(() => batches(toy(), { batchSize: 0 }), 'INVALID_OPTION', /batchSize/);
  await throwsCode(() => batches(toy(), { batchSize: 2.5 }), 'INVALID_OPTION', /batchSize/);
  await throwsCode(() => batches(toy(), { batchSize: 2, shuffle: true }), 'INVALID_OPTION', /rng/);
  await throwsCode(() => batches(toy(), { batchSize: 2, augment: true }), 'INVALID_OPTION', /rng/);
});

batch('should throw SHAPE_MISMATCH for a dataset whose bytes do not match its count', async () => {
  await throwsCode(() => batches({ ...toy(), count: 11 }, { batchSize: 2 }), 'SHAPE_MISMATCH');
});

batch.run();

// ---

const tensors = suite('datasetTensors');

tensors.before(async () => {
  await initBackend('cpu');
});

tensors('should return all images as float32 pixels and int32 labels', () => {
  const ds = toy();
  const { x, y } = datasetTensors(ds);
  assert.equal(x.shape, [10, 2, 3, 1]);
  assert.equal(Array.from(y.dataSync()), Array.from(ds.labels));
  assert.is(x.dataSync()[59], Math.fround(ds.images[59]! / 255));
  tf.dispose([x, y]);
});

tensors('should return the chosen indices in the given order', () => {
  const ds = toy();
  const { x, y } = datasetTensors(ds, [7, 2]);
  assert.equal(x.shape, [2, 2, 3, 1]);
  assert.equal(Array.from(y.dataSync()), [3, 2]);
  assert.is(Math.round(x.dataSync()[0]! * 255), 140);
  tf.dispose([x, y]);
});

tensors('should throw INVALID_ARGUMENT for an index out of range or not an integer', async () => {
  await throwsCode(() => datasetTensors(toy(), [0, 10]), 'INVALID_ARGUMENT', /indices\[1\]/);
  await throwsCode(() => datasetTensors(toy(), [1.5]), 'INVALID_ARGUMENT', /indices\[0\]/);
});

tensors.run();
