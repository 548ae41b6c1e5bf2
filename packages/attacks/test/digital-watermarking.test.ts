import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { digitalWatermarking, patchAttack } from '@patchcert/attacks';
import { throwsCode } from './helpers.js';
import { pixelDetector } from './toy-models.js';

/** A 16×16 black image with a 2×2 checkerboard-bright patch at (5,9). */
function patched(): tf.Tensor4D {
  const v = new Float32Array(256);
  for (const [i, j] of [[5, 9], [5, 10], [6, 9], [6, 10]]) v[i * 16 + j] = 1;
  return tf.tensor4d(v, [1, 16, 16, 1]);
}

const dw = suite('digitalWatermarking');

dw.before(async () => {
  await initBackend('wasm');
});

dw('should mask a dense high-gradient patch and inpaint it from the background', () => {
  const x = patched();
  const d = digitalWatermarking();
  const m = d.mask(x).reshape([16, 16]).arraySync() as number[][];
  for (const [i, j] of [[5, 9], [5, 10], [6, 9], [6, 10]]) assert.is(m[i]![j], 1, `patch pixel ${i},${j}`);
  assert.is(m[0]![0], 0);
  const out = d.apply(x);
  assert.ok(tf.tidy(() => tf.max(out).dataSync()[0]!) < 0.05, 'the bright patch is gone');
});

dw('should leave an image without dense salient regions unchanged', () => {
  const x = tf.fill([1, 16, 16, 1], 0.4) as tf.Tensor4D;
  const out = digitalWatermarking().apply(x);
  assert.is(tf.tidy(() => tf.max(tf.abs(tf.sub(out, x))).dataSync()[0]), 0);
});

dw('should pass the gradient through unchanged (BPDA) and nonzero', () => {
  const x = patched();
  const d = digitalWatermarking();
  const r = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 3);
  const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(d.apply(z as tf.Tensor4D), r)))(x);
  assert.is(tf.tidy(() => tf.max(tf.abs(tf.sub(g, r))).dataSync()[0]), 0);
  assert.ok(g.abs().sum().dataSync()[0]! > 0);
});

dw('should find the region a classifier looks at with model saliency', () => {
  // The classifier reads only a 3x3 block, so its saliency is dense exactly there.
  const px: [number, number][] = [];
  for (let i = 2; i < 5; i++) for (let j = 11; j < 14; j++) px.push([i, j]);
  const model = pixelDetector(16, px);
  const x = tf.fill([1, 16, 16, 1], 0.2) as tf.Tensor4D;
  const m = digitalWatermarking({ model }).mask(x).reshape([16, 16]).arraySync() as number[][];
  assert.is(m[3]![12], 1);
  assert.is(m[12]![3], 0);
  model.dispose();
});

dw('should run inside an adaptive attack with classifier saliency (a gradient inside the gradient) and free its tensors', () => {
  const model = pixelDetector(8, [[1, 6]]);
  const x = tf.zeros([3, 8, 8, 1]) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const r = patchAttack(model, x, [0, 0, 0], { threat: 2, placement: 'all', steps: 10, defense: digitalWatermarking({ model }) });
  assert.is(r.cleanAccuracy, 1);
  assert.ok(r.evaluations > 0);
  r.adversarial.dispose();
  assert.is(tf.memory().numTensors, before);
  x.dispose();
  model.dispose();
});

dw('should throw INVALID_OPTION for bad options', () => {
  throwsCode(() => digitalWatermarking({ density: 1.5 }), 'INVALID_OPTION');
  throwsCode(() => digitalWatermarking({ window: 0 }), 'INVALID_OPTION');
  throwsCode(() => digitalWatermarking({ model: {} as never }), 'INVALID_OPTION');
  throwsCode(() => digitalWatermarking({ dilate: 1 } as never), 'INVALID_OPTION');
});

dw.run();
