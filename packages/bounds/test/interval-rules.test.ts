import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import { intervalDense, intervalConv2d, intervalRelu, intervalFlatten, propagateInterval, elidedMarginBounds, toInterval, intervalAffine, intervalLayer } from '@patchcert/bounds';
import { customModel, conv, dense, relu, flatten, throwsCode } from './_helpers.js';

await initBackend('wasm');

/** Random box [B, ...shape] in center/radius form. */
function randomBox(rng: Rng, shape: number[]): { mu: tf.Tensor; r: tf.Tensor } {
  const n = shape.reduce((a, b) => a * b, 1);
  return { mu: tf.tensor(Float32Array.from({ length: n }, () => rng.normal()), shape), r: tf.tensor(Float32Array.from({ length: n }, () => rng.next()), shape) };
}

/** Samples points in the box (vertices and interior) and checks lower ≤ f(x) ≤ upper. */
function checkSound(rng: Rng, box: { mu: tf.Tensor; r: tf.Tensor }, out: { mu: tf.Tensor; r: tf.Tensor }, f: (x: tf.Tensor) => tf.Tensor, samples = 20): void {
  const lo = tf.sub(out.mu, out.r).dataSync();
  const hi = tf.add(out.mu, out.r).dataSync();
  for (let s = 0; s < samples; s++) {
    const mu = box.mu.dataSync();
    const r = box.r.dataSync();
    const x = Float32Array.from(mu, (m, i) => {
      const t = s % 2 === 0 ? (rng.next() < 0.5 ? -1 : 1) : rng.next() * 2 - 1;
      return m + t * r[i]!;
    });
    const y = tf.tidy(() => f(tf.tensor(x, box.mu.shape)).dataSync());
    for (let i = 0; i < y.length; i++) {
      if (!(y[i]! >= lo[i]! - 1e-4 && y[i]! <= hi[i]! + 1e-4)) assert.unreachable(`sample ${s} index ${i}: ${y[i]} not in [${lo[i]}, ${hi[i]}]`);
    }
  }
}

const denseSuite = suite('intervalDense');
denseSuite('should contain the layer output of every sampled point of the box', () => {
  const rng = new Rng(1);
  const box = randomBox(rng, [3, 7]);
  const k = tf.randomNormal([7, 5], 0, 1, 'float32', 3);
  const b = tf.randomNormal([5], 0, 1, 'float32', 4);
  const out = intervalDense(box, k, b);
  assert.equal(out.mu.shape, [3, 5]);
  checkSound(rng, box, out, (x) => tf.add(tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D), b));
});
denseSuite('should be exact for a zero radius', () => {
  const k = tf.tensor2d([[1, -2], [3, 4]]);
  const out = intervalDense({ mu: tf.tensor2d([[1, 1]]), r: tf.zeros([1, 2]) }, k, tf.tensor1d([0.5, 0]));
  assert.equal(Array.from(out.mu.dataSync()), [4.5, 2]);
  assert.equal(Array.from(out.r.dataSync()), [0, 0]);
});
denseSuite.run();

// ---

const convSuite = suite('intervalConv2d');
for (const [kh, kw, sh, sw, pad] of [[3, 3, 1, 1, [1, 1, 1, 1]], [4, 4, 2, 2, [1, 1, 1, 1]], [3, 2, 2, 1, [0, 1, 2, 0]]] as const) {
  convSuite(`[conv k=${kh}x${kw} s=${sh}x${sw} pad=${pad}] should contain the conv output of sampled points`, () => {
    const rng = new Rng(2);
    const box = randomBox(rng, [2, 7, 6, 3]);
    const k = tf.randomNormal([kh, kw, 3, 4], 0, 0.5, 'float32', 5);
    const b = tf.randomNormal([4], 0, 1, 'float32', 6);
    const spec = { strides: [sh, sw] as [number, number], padding: [...pad] as [number, number, number, number] };
    const out = intervalConv2d(box, spec, k, b);
    checkSound(rng, box, out, (x) => tf.add(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, [sh, sw], [[0, 0], [pad[0], pad[1]], [pad[2], pad[3]], [0, 0]]), b));
  });
}
convSuite.run();

// ---

const reluSuite = suite('intervalRelu');
reluSuite('should map [l, u] to [max(l,0), max(u,0)]', () => {
  const out = toInterval(intervalRelu({ mu: tf.tensor1d([-2, 0, 2]), r: tf.tensor1d([1, 1, 1]) }));
  assert.equal(Array.from(out.lower.dataSync()), [0, 0, 1]);
  assert.equal(Array.from(out.upper.dataSync()), [0, 1, 3]);
});
reluSuite.run();

// ---

const flatSuite = suite('intervalFlatten');
flatSuite('should flatten both tensors row-major like the model', () => {
  const out = intervalFlatten({ mu: tf.ones([2, 3, 4, 5]), r: tf.zeros([2, 3, 4, 5]) });
  assert.equal(out.mu.shape, [2, 60]);
  assert.equal(out.r.shape, [2, 60]);
});
flatSuite.run();

// ---

const layerSuite = suite('intervalLayer');
layerSuite('should throw UNSUPPORTED_LAYER for an unknown layer and a non-affine intervalAffine', () => {
  const box = { mu: tf.zeros([1, 2]), r: tf.zeros([1, 2]) };
  throwsCode(() => intervalLayer({ type: 'maxpool' } as never, null, box), 'UNSUPPORTED_LAYER');
  throwsCode(() => intervalAffine({ type: 'relu' }, null as never, box), 'UNSUPPORTED_LAYER');
});
layerSuite.run();

// ---

const propSuite = suite('propagateInterval');
propSuite('should bound the logits of a CNN for sampled inputs of the box', () => {
  const rng = new Rng(3);
  const model = customModel([conv(3, 3, 2, 1), relu, conv(4, 3, 1, 0), relu, flatten, dense(6), relu, dense(4)], [8, 8, 2], 7, 4);
  const box = randomBox(rng, [2, 8, 8, 2]);
  const lu = toInterval(box);
  const out = propagateInterval(model, lu);
  checkSound(rng, box, { mu: tf.mul(tf.add(out.upper, out.lower), 0.5), r: tf.mul(tf.sub(out.upper, out.lower), 0.5) }, (x) => model.forward(x as tf.Tensor4D));
});
propSuite('should throw INVALID_ARGUMENT for a bad layer range', () => {
  const model = customModel([flatten, dense(3), relu, dense(2)], [2, 2, 1], 1, 2);
  throwsCode(() => propagateInterval(model, { lower: tf.zeros([1, 2, 2, 1]), upper: tf.ones([1, 2, 2, 1]) }, 3, 9), 'INVALID_ARGUMENT');
});
propSuite.run();

// ---

const elidedSuite = suite('elidedMarginBounds');
elidedSuite('should lower-bound z_y − z_j of sampled inputs, be 0 at y and tighter than separate logit bounds', () => {
  const rng = new Rng(4);
  const model = customModel([flatten, dense(8), relu, dense(5)], [3, 3, 1], 9, 5);
  const box = randomBox(rng, [4, 3, 3, 1]);
  const labels = [0, 1, 2, 4];
  const lu = toInterval(box);
  const m = elidedMarginBounds(model, lu, labels).arraySync() as number[][];
  const logits = propagateInterval(model, lu);
  const lo = logits.lower.arraySync() as number[][];
  const hi = logits.upper.arraySync() as number[][];
  for (let b = 0; b < 4; b++) {
    assert.is(m[b]![labels[b]!], 0);
    for (let j = 0; j < 5; j++) if (j !== labels[b]) assert.ok(m[b]![j]! >= lo[b]![labels[b]!]! - hi[b]![j]! - 1e-5, 'elision is never looser');
  }
  for (let s = 0; s < 30; s++) {
    const x = tf.tidy(() => tf.add(box.mu, tf.mul(box.r, tf.sub(tf.mul(tf.randomUniform(box.mu.shape, 0, 1, 'float32', s), 2), 1))));
    const z = model.forward(x as tf.Tensor4D).arraySync() as number[][];
    for (let b = 0; b < 4; b++) for (let j = 0; j < 5; j++) assert.ok(z[b]![labels[b]!]! - z[b]![j]! >= m[b]![j]! - 1e-5);
  }
});
elidedSuite('should throw SHAPE_MISMATCH when labels do not match the batch', () => {
  const model = customModel([flatten, dense(3), relu, dense(2)], [2, 2, 1], 1, 2);
  throwsCode(() => elidedMarginBounds(model, { lower: tf.zeros([2, 2, 2, 1]), upper: tf.ones([2, 2, 2, 1]) }, [0]), 'SHAPE_MISMATCH');
});
elidedSuite.run();
