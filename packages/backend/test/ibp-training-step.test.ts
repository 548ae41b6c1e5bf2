// One interval-bound-propagation training step of a small CNN, on wasm (patchcert's kernels) and
// on tfjs's cpu backend: loss and every variable gradient must agree. This is the end-to-end
// check that wasm can train what patchcert trains: conv weight gradient, conv input gradient,
// transposed matmuls and the gather gradient all run in it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { assertClose, seededNormal } from './helpers.js';

// No IS_TEST leak check here: tfjs's own customGrad ops (softmaxCrossEntropy) trip it; the
// kernels are leak-checked one by one in wasm-kernels.test.ts, and numTensors is checked below.

const BATCH = 8;
const CLASSES = 10;
const CONV_PAD: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
const HIDDEN = 14 * 14 * 4;

const images = Float32Array.from(seededNormal(BATCH * 28 * 28, 11), (v) => Math.min(1, Math.max(0, 0.5 + 0.3 * v)));
const labels = Int32Array.from({ length: BATCH }, (_, i) => (i * 3) % CLASSES);
const weights = {
  w1: seededNormal(4 * 4 * 1 * 4, 12, 0.5),
  b1: seededNormal(4, 13, 0.1),
  w2: seededNormal(HIDDEN * CLASSES, 14, 0.05),
  b2: seededNormal(CLASSES, 15, 0.1),
};

/** Box of a 5×5 patch at rows/cols 10..14 with radius eps, clipped to [0, 1], as center/radius. */
function patchBox(x: tf.Tensor4D, eps: number): { c: tf.Tensor4D; r: tf.Tensor4D } {
  const mask = tf.pad(tf.ones([1, 5, 5, 1]), [[0, 0], [10, 13], [10, 13], [0, 0]]);
  const lo = tf.maximum(tf.sub(x, tf.mul(mask, eps)), 0);
  const hi = tf.minimum(tf.add(x, tf.mul(mask, eps)), 1);
  return { c: tf.div(tf.add(lo, hi), 2), r: tf.div(tf.sub(hi, lo), 2) };
}

/** IBP training loss: conv k4 s2 pad1 → relu → flatten → dense elided with C = e_y − e_j. */
function ibpLoss(vars: Record<string, tf.Variable>, x: tf.Tensor4D, y: tf.Tensor1D): tf.Scalar {
  const { w1, b1, w2, b2 } = vars as Record<'w1' | 'b1' | 'w2' | 'b2', tf.Variable>;
  const { c, r } = patchBox(x, 0.3);
  const c1 = tf.add(tf.conv2d(c, w1 as tf.Tensor4D, 2, CONV_PAD), b1);
  const r1 = tf.conv2d(r, tf.abs(w1) as tf.Tensor4D, 2, CONV_PAD);
  const lo = tf.relu(tf.sub(c1, r1));
  const hi = tf.relu(tf.add(c1, r1));
  const c2 = tf.reshape(tf.div(tf.add(lo, hi), 2), [BATCH, HIDDEN, 1]);
  const r2 = tf.reshape(tf.div(tf.sub(hi, lo), 2), [BATCH, HIDDEN, 1]);
  // Rows of C·Wᵀ per image: W_y − W_j for every class j ([B, classes, hidden]); gather's gradient
  // is UnsortedSegmentSum.
  const wt = tf.transpose(w2);
  const wy = tf.expandDims(tf.gather(wt, y), 1);
  const diff = tf.sub(wy, tf.expandDims(wt, 0));
  const by = tf.expandDims(tf.gather(b2, y), 1);
  const bDiff = tf.sub(by, tf.expandDims(b2, 0));
  const margin = tf.add(
    tf.sub(tf.reshape(tf.matMul(diff, c2), [BATCH, CLASSES]), tf.reshape(tf.matMul(tf.abs(diff), r2), [BATCH, CLASSES])),
    bDiff,
  );
  return tf.losses.softmaxCrossEntropy(tf.oneHot(y, CLASSES), tf.neg(margin)) as tf.Scalar;
}

async function trainingStep(backend: 'wasm' | 'cpu'): Promise<{ loss: number; grads: Record<string, Float32Array>; ms: number }> {
  await initBackend(backend);
  const vars = {
    w1: tf.variable(tf.tensor4d(weights.w1, [4, 4, 1, 4]), true, `w1_${backend}`),
    b1: tf.variable(tf.tensor1d(weights.b1), true, `b1_${backend}`),
    w2: tf.variable(tf.tensor2d(weights.w2, [HIDDEN, CLASSES]), true, `w2_${backend}`),
    b2: tf.variable(tf.tensor1d(weights.b2), true, `b2_${backend}`),
  };
  const x = tf.tensor4d(images, [BATCH, 28, 28, 1]);
  const y = tf.tensor1d(labels, 'int32');
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  const { value, grads } = tf.variableGrads(() => ibpLoss(vars, x, y), Object.values(vars));
  const loss = value.dataSync()[0]!;
  const out: Record<string, Float32Array> = {};
  for (const [name, g] of Object.entries(grads)) out[name.replace(`_${backend}`, '')] = Float32Array.from(g.dataSync());
  const ms = performance.now() - t0;
  tf.dispose([value, ...Object.values(grads)]);
  assert.is(tf.memory().numTensors, before, `tensors leaked by the training step on ${backend}`);
  tf.dispose([x, y, ...Object.values(vars)]);
  return { loss, grads: out, ms };
}

// ---

const step = suite('initBackend');

step('should run an IBP training step of a small CNN on wasm with the loss and gradients of cpu', async () => {
  const wasm = await trainingStep('wasm');
  const cpu = await trainingStep('cpu');
  assert.ok(Number.isFinite(wasm.loss) && wasm.loss > 0, `loss ${wasm.loss}`);
  assertClose([wasm.loss], [cpu.loss], { rtol: 1e-5, atol: 0 }, 'loss');
  assert.equal(Object.keys(wasm.grads).sort(), ['b1', 'b2', 'w1', 'w2']);
  for (const name of Object.keys(cpu.grads)) {
    const g = cpu.grads[name]!;
    assert.ok(g.some((v) => v !== 0), `${name}: gradient is all zero, the test would prove nothing`);
    assertClose(wasm.grads[name]!, g, { rtol: 1e-4, atol: 1e-5 }, `grad ${name}`);
  }
});

step.run();
