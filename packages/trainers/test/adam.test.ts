import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { Adam } from '@patchcert/trainers';
import { assertClose, throwsCode } from './helpers.js';

await initBackend('wasm');

// θ0 = [1, −2], lr 0.1, gradients g1..g3; expected values worked out by hand with PyTorch 1.x's
// update (reference §16): m ← .9m + .1g, v ← .999v + .001g², θ ← θ − lr·(m/(1−.9^t))/(√(v/(1−.999^t)) + 1e-8).
const GRADS = [[0.5, -1.0], [0.25, 0.5], [-0.1, 0.2]];
const EXPECTED = [
  [0.900000002, -1.900000001],
  [0.8067820404774624, -1.873366297370903],
  [0.7471109386505732, -1.8643593384671742],
];

const adam = suite('Adam');

adam('should match PyTorch Adam step by step', () => {
  const x = tf.variable(tf.tensor1d([1, -2]));
  const opt = new Adam([x]);
  GRADS.forEach((g, i) => {
    tf.tidy(() => opt.step({ [x.name]: tf.tensor1d(g) }, 0.1));
    assertClose(x.dataSync(), EXPECTED[i]!, 1e-6, `step ${i + 1}`);
  });
  assert.is(opt.stepCount, 3);
  opt.dispose();
  x.dispose();
});

adam('should continue identically after getState/setState into a fresh optimizer', async () => {
  const a = tf.variable(tf.tensor1d([1, -2]));
  const optA = new Adam([a]);
  tf.tidy(() => optA.step({ [a.name]: tf.tensor1d(GRADS[0]!) }, 0.1));
  const state = await optA.getState();
  const b = tf.variable(tf.tensor1d(Array.from(a.dataSync())));
  const optB = new Adam([b]);
  optB.setState(state);
  for (const g of GRADS.slice(1)) {
    tf.tidy(() => optA.step({ [a.name]: tf.tensor1d(g) }, 0.1));
    tf.tidy(() => optB.step({ [b.name]: tf.tensor1d(g) }, 0.1));
  }
  assert.equal(Array.from(b.dataSync()), Array.from(a.dataSync()));
  assertClose(b.dataSync(), EXPECTED[2]!, 1e-6);
  [optA, optB].forEach((o) => o.dispose());
  [a, b].forEach((v) => v.dispose());
});

adam('should add coupled weight decay to the gradient', () => {
  const x = tf.variable(tf.tensor1d([2]));
  const opt = new Adam([x], { weightDecay: 0.5 });
  // g' = 0 + 0.5·2 = 1, first step moves by lr·1/(1+1e-8).
  tf.tidy(() => opt.step({ [x.name]: tf.tensor1d([0]) }, 0.1));
  assertClose(x.dataSync(), [1.9], 1e-6);
  opt.dispose();
  x.dispose();
});

adam('should not leak tensors per step or after dispose', () => {
  const x = tf.variable(tf.zeros([3, 4]));
  const start = tf.memory().numTensors;
  const opt = new Adam([x]);
  const g = tf.ones([3, 4]);
  opt.step({ [x.name]: g }, 0.01);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) opt.step({ [x.name]: g }, 0.01);
  assert.is(tf.memory().numTensors, before);
  g.dispose();
  opt.dispose();
  assert.is(tf.memory().numTensors, start);
  x.dispose();
});

adam('should throw INVALID_ARGUMENT for a missing gradient and SHAPE_MISMATCH for a bad state', async () => {
  const x = tf.variable(tf.zeros([2]));
  const opt = new Adam([x]);
  await throwsCode(() => opt.step({}, 0.1), 'INVALID_ARGUMENT');
  await throwsCode(() => opt.setState({ step: 1, options: opt.options, m: [new Float32Array(3)], v: [new Float32Array(3)] }), 'SHAPE_MISMATCH');
  await throwsCode(() => opt.setState({ step: 1, options: opt.options, m: [], v: [] }), 'SHAPE_MISMATCH');
  opt.dispose();
  x.dispose();
});

adam.run();
