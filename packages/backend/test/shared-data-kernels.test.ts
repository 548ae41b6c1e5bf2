// patchcert's wasm Transpose and Cast share their input's data when the element order and dtype
// do not change (stock wasm copies), and run the stock kernel otherwise: values against tfjs's
// cpu backend, sharing, lifetimes, and the gradients that use them (gather, abs).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, registerWasmKernels, restoreStockWasmKernels, tf } from '@patchcert/backend';
import { KERNEL_TOLERANCE, assertWasmMatchesCpu, seededNormal } from './helpers.js';

tf.env().set('IS_TEST', true);

const transpose = suite('Transpose (shared data)');

transpose('should share the data for no-op permutations, size-1 axes moved included, and outlive the input', async () => {
  await initBackend('wasm');
  const buffers = tf.memory().numDataBuffers;
  const cases: [number[], number[]][] = [
    [[3, 4], [0, 1]],
    [[1, 3, 1, 4], [0, 2, 1, 3]],
    [[2, 1, 3], [1, 0, 2]],
    [[4, 1], [1, 0]],
    [[5], [0]],
  ];
  for (const [shape, perm] of cases) {
    const size = shape.reduce((a, b) => a * b, 1);
    const a = tf.tensor(seededNormal(size, 1), shape);
    const expected = Array.from(a.dataSync());
    const b = tf.transpose(a, perm);
    assert.ok(b.dataId === a.dataId, `[${shape}] perm [${perm}] shares`);
    assert.equal(b.shape, perm.map((p) => shape[p]!), `[${shape}] perm [${perm}] shape`);
    a.dispose();
    assert.equal(Array.from(b.dataSync()), expected, `[${shape}] perm [${perm}] values`);
    b.dispose();
  }
  assert.is(tf.memory().numDataBuffers, buffers, 'every buffer freed with its last tensor');
});

transpose('should match the cpu backend for real permutations (a copy) and no-op ones', async () => {
  const cases: [number[], number[]][] = [
    [[3, 4], [1, 0]],
    [[2, 3, 4], [2, 0, 1]],
    [[2, 1, 3, 1], [3, 2, 1, 0]],
    [[1, 3, 1, 4], [0, 2, 1, 3]],
  ];
  for (const [shape, perm] of cases) {
    const xv = seededNormal(shape.reduce((a, b) => a * b, 1), 2);
    await assertWasmMatchesCpu(() => tf.transpose(tf.tensor(xv, shape), perm), KERNEL_TOLERANCE, `[${shape}] perm [${perm}]`);
  }
  await initBackend('wasm');
  const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const b = tf.transpose(a, [1, 0]);
  assert.ok(b.dataId !== a.dataId, 'a real permutation copies');
  assert.equal(Array.from(b.dataSync()), [1, 4, 2, 5, 3, 6]);
  tf.dispose([a, b]);
});

transpose('should give gather gradients on axis 0 (which transpose with the identity) like the cpu backend', async () => {
  const wv = seededNormal(7 * 5, 3);
  const idx = [3, 0, 3, 6, 1, 1, 5];
  const dyv = seededNormal(idx.length * 5, 4);
  await assertWasmMatchesCpu(
    () => tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.gather(w, tf.tensor1d(idx, 'int32')), tf.tensor2d(dyv, [idx.length, 5]))))(tf.tensor2d(wv, [7, 5])),
    KERNEL_TOLERANCE,
    'gather grad',
  );
});

transpose.run();

// ---

const cast = suite('Cast (shared data)');

cast('should share the data for a cast to the same dtype and outlive the input', async () => {
  await initBackend('wasm');
  const buffers = tf.memory().numDataBuffers;
  for (const [values, dtype] of [[[1.5, -2, 0], 'float32'], [[3, -4, 7], 'int32'], [[1, 0, 1], 'bool']] as const) {
    const a = tf.tensor1d(values as unknown as number[], dtype);
    const b = tf.cast(a, dtype);
    assert.ok(b.dataId === a.dataId, `${dtype} shares`);
    assert.is(b.dtype, dtype);
    a.dispose();
    assert.equal(Array.from(b.dataSync()), Array.from(values as unknown as number[]), `${dtype} values`);
    b.dispose();
  }
  assert.is(tf.memory().numDataBuffers, buffers, 'every buffer freed with its last tensor');
});

cast('should convert between dtypes like the cpu backend', async () => {
  const xv = Float32Array.from([1.7, -1.7, 0, 2.5, -0.2, 3]);
  await assertWasmMatchesCpu(() => tf.cast(tf.tensor1d(xv), 'int32'), KERNEL_TOLERANCE, 'float32 -> int32');
  await assertWasmMatchesCpu(() => tf.cast(tf.tensor1d([3, -4, 7], 'int32'), 'float32'), KERNEL_TOLERANCE, 'int32 -> float32');
  await initBackend('wasm');
  const a = tf.tensor1d([3, -4], 'int32');
  const b = tf.cast(a, 'float32');
  assert.ok(b.dataId !== a.dataId, 'a dtype change copies');
  tf.dispose([a, b]);
});

cast('should give abs gradients (which cast float32 to float32) like the cpu backend', async () => {
  const xv = seededNormal(24, 5);
  await assertWasmMatchesCpu(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.abs(t), tf.square(t))))(tf.tensor(xv, [4, 6])), KERNEL_TOLERANCE, 'abs grad');
});

cast.run();

// ---

const restore = suite('restoreStockWasmKernels (Transpose, Cast)');

restore('should put the copying stock Transpose and Cast back and register patchcert\'s again', async () => {
  await initBackend('wasm');
  const a = tf.tensor2d([[1, 2], [3, 4]]);
  restoreStockWasmKernels();
  try {
    const t = tf.transpose(a, [0, 1]);
    const c = tf.cast(a, 'float32');
    assert.ok(t.dataId !== a.dataId && c.dataId !== a.dataId, 'stock kernels copy');
    tf.dispose([t, c]);
  } finally {
    registerWasmKernels();
  }
  const t = tf.transpose(a, [0, 1]);
  assert.ok(t.dataId === a.dataId, 'patchcert Transpose is back');
  tf.dispose([a, t]);
});

restore.run();
