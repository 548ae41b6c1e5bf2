import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { localGradientSmoothing, DEFAULT_LGS } from '@patchcert/attacks';
import { throwsCode } from './helpers.js';

/** A 16×16 image: flat grey, with a bright 3×3 block at (6,6). */
function blockImage(): tf.Tensor4D {
  const v = new Float32Array(256).fill(0.3);
  for (let i = 6; i < 9; i++) for (let j = 6; j < 9; j++) v[i * 16 + j] = 1;
  return tf.tensor4d(v, [1, 16, 16, 1]);
}

const lgs = suite('localGradientSmoothing');

lgs.before(async () => {
  await initBackend('wasm');
});

lgs('should leave a flat image unchanged, border included', () => {
  const x = tf.fill([2, 16, 16, 3], 0.6) as tf.Tensor4D;
  const out = localGradientSmoothing().apply(x);
  assert.is(tf.tidy(() => tf.max(tf.abs(tf.sub(out, x))).dataSync()[0]), 0);
});

lgs('should damp the edges of a high-contrast block and only near it', () => {
  const x = blockImage();
  const out = localGradientSmoothing({ lambda: 2.3 }).apply(x);
  const d = tf.tidy(() => tf.sub(x, out).reshape([16, 16]).arraySync()) as number[][];
  assert.ok(d[6]![6]! > 0.5, `block corner damped by ${d[6]![6]}`);
  d.forEach((row, i) => row.forEach((v, j) => {
    assert.ok(v >= -1e-5, 'smoothing only darkens');
    if (Math.abs(i - 7) > 2 || Math.abs(j - 7) > 2) assert.ok(v < 1e-5, `pixel ${i},${j} far from the block changed by ${v}`);
  }));
});

lgs('should keep windows below the threshold untouched', () => {
  const x = blockImage();
  const out = localGradientSmoothing({ threshold: 1 }).apply(x);
  assert.is(tf.tidy(() => tf.max(tf.abs(tf.sub(out, x))).dataSync()[0]), 0);
});

lgs('should be differentiable so adaptive attacks see through it', () => {
  const x = blockImage();
  const d = localGradientSmoothing();
  const g = tf.grad((z: tf.Tensor) => tf.sum(tf.square(d.apply(z as tf.Tensor4D))))(x);
  const plain = tf.grad((z: tf.Tensor) => tf.sum(tf.square(z)))(x);
  const norm = g.abs().sum().dataSync()[0]!;
  assert.ok(norm > 0 && Number.isFinite(norm));
  // The smoothing changes the gradient near the block (it is not the identity there).
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(g, plain))).dataSync()[0]!) > 0.1);
});

lgs('should expose its merged options and defaults', () => {
  const d = localGradientSmoothing({ lambda: 3 });
  assert.is(d.name, 'LGS');
  assert.equal(d.options, { ...DEFAULT_LGS, lambda: 3 });
});

lgs('should throw INVALID_OPTION for bad options', () => {
  throwsCode(() => localGradientSmoothing({ window: 0 }), 'INVALID_OPTION');
  throwsCode(() => localGradientSmoothing({ threshold: 2 }), 'INVALID_OPTION');
  throwsCode(() => localGradientSmoothing({ lambda: -1 }), 'INVALID_OPTION');
  throwsCode(() => localGradientSmoothing({ lamda: 1 } as never), 'INVALID_OPTION');
});

lgs.run();
