import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { sparseFirstLayerBounds, locationMargins, certify, sparsePixels, toInterval } from '@patchcert/bounds';
import { paperModel, customModel, randomImages, randomLabels, conv, dense, relu, flatten, CIFAR_NORM, throwsCode } from './_helpers.js';

await initBackend('wasm');

const models: [string, () => SequentialModel, [number, number, number]][] = [
  ['mlp rgb', () => customModel([flatten, dense(10), relu, dense(4)], [6, 6, 3], 31, 4, CIFAR_NORM), [6, 6, 3]],
  ['conv k5 p2', () => customModel([conv(3, 5, 1, 2), relu, conv(2, 3, 2, 1), relu, flatten, dense(4)], [7, 7, 1], 32, 4), [7, 7, 1]],
  ['conv13 cifar', () => paperModel('cnn-4layer-conv13', [16, 16, 3], 33, [16, 16]), [16, 16, 3]],
];

const s = suite('sparseFirstLayerBounds');
for (const [name, make, shape] of models) {
  s(`[${name}] should contain the first layer's output for random k-pixel changes, paper and tight`, () => {
    const rng = new Rng(shape[0]);
    const model = make();
    const x = randomImages(rng, 2, shape);
    const first = model.layers[0]!.type === 'conv2d' ? 0 : 1;
    const k = 3;
    for (const eps of [1, 0.3]) {
      const paper = toInterval(sparseFirstLayerBounds(model, x, k, eps, false));
      const tight = toInterval(sparseFirstLayerBounds(model, x, k, eps, true));
      const pl = paper.lower.dataSync(), pu = paper.upper.dataSync(), tl = tight.lower.dataSync(), tu = tight.upper.dataSync();
      // Tight ⊆ paper: never looser.
      for (let i = 0; i < pl.length; i++) assert.ok(tl[i]! >= pl[i]! - 1e-4 && tu[i]! <= pu[i]! + 1e-4, `tight inside paper at ${i}`);
      const px = x.dataSync();
      const [h, w, c] = shape;
      for (let t = 0; t < 30; t++) {
        const d = Float32Array.from(px);
        for (let b = 0; b < 2; b++) {
          for (let q = 0; q < k; q++) {
            const p = rng.int(h * w);
            for (let ch = 0; ch < c; ch++) {
              const i = ((b * h * w) + p) * c + ch;
              const lo = Math.max(0, px[i]! - eps);
              const hi = Math.min(1, px[i]! + eps);
              d[i] = t % 2 ? (rng.next() < 0.5 ? lo : hi) : lo + rng.next() * (hi - lo);
            }
          }
        }
        const z = tf.tidy(() => {
          const xn = tf.div(tf.sub(tf.tensor4d(d, x.shape), tf.tensor1d(model.metadata.normalization.mean)), tf.tensor1d(model.metadata.normalization.std));
          let h1: tf.Tensor = xn;
          for (let li = 0; li <= first; li++) h1 = li === 0 && first === 1 ? tf.reshape(h1, [2, -1]) : applyAffine(model, li, h1);
          return h1.dataSync();
        });
        for (let i = 0; i < z.length; i++) assert.ok(z[i]! >= tl[i]! - 1e-4 && z[i]! <= tu[i]! + 1e-4, `sample ${t} unit ${i}: ${z[i]} in [${tl[i]}, ${tu[i]}]`);
      }
    }
    model.dispose();
  });
}

function applyAffine(model: SequentialModel, i: number, h: tf.Tensor): tf.Tensor {
  const layer = model.layers[i]!;
  const wts = model.weights[i]!;
  if (layer.type === 'dense') return tf.add(tf.matMul(h as tf.Tensor2D, wts.kernel as tf.Tensor2D), wts.bias);
  if (layer.type !== 'conv2d') throw new Error('affine');
  const [pt, pb, pl, pr] = layer.padding;
  return tf.add(tf.conv2d(h as tf.Tensor4D, wts.kernel as tf.Tensor4D, layer.strides, [[0, 0], [pt, pb], [pl, pr], [0, 0]]), wts.bias);
}

s('should make the tight margins never lower than the paper margins and bound random k-pixel attacks end to end', () => {
  const rng = new Rng(41);
  const model = paperModel('cnn-4layer', [12, 12, 1], 42, [16, 16]);
  const x = randomImages(rng, 3, [12, 12, 1]);
  const y = randomLabels(rng, 3);
  const paper = locationMargins(model, x, y, sparsePixels(2), { eps: 1 }).dataSync();
  const tight = locationMargins(model, x, y, sparsePixels(2, { tight: true }), { eps: 1 }).dataSync();
  let strictly = 0;
  for (let i = 0; i < paper.length; i++) {
    assert.ok(tight[i]! >= paper[i]! - 1e-4, `tight ${tight[i]} ≥ paper ${paper[i]}`);
    if (tight[i]! > paper[i]! + 1e-4) strictly++;
  }
  assert.ok(strictly > 0, 'the tight bound is tighter somewhere');
  const px = x.dataSync();
  for (let t = 0; t < 40; t++) {
    const d = Float32Array.from(px);
    for (let b = 0; b < 3; b++) for (let q = 0; q < 2; q++) d[b * 144 + rng.int(144)] = rng.next() < 0.5 ? 0 : 1;
    const z = tf.tidy(() => model.predict(tf.tensor4d(d, x.shape)).arraySync() as number[][]);
    for (let b = 0; b < 3; b++) for (let j = 0; j < 10; j++) assert.ok(z[b]![y[b]!]! - z[b]![j]! >= tight[b * 10 + j]! - 1e-4);
  }
  const res = certify(model, x, y, sparsePixels(2, { tight: true }));
  assert.is(res.locations, 1);
});

s('should be differentiable w.r.t. the first layer (topk-free gradient)', () => {
  const rng = new Rng(43);
  const model = customModel([flatten, dense(8), relu, dense(3)], [5, 5, 1], 44, 3);
  const x = randomImages(rng, 2, [5, 5, 1]);
  const { grads } = tf.variableGrads(() => tf.sum(locationMargins(model, x, [0, 1], sparsePixels(3), { eps: 1 })) as tf.Scalar, model.trainableVariables());
  const g = grads[model.weights[1]!.kernel.name]!.dataSync();
  assert.ok(g.some((v) => v !== 0));
});

s('should throw UNSUPPORTED_LAYER for a model that does not start with conv or flatten → dense', () => {
  const model = customModel([flatten, relu, dense(3)], [2, 2, 1], 1, 3);
  throwsCode(() => sparseFirstLayerBounds(model, tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, 1, 1, false), 'UNSUPPORTED_LAYER');
});
s.run();
