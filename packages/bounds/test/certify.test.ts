import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { certify, locationMargins, squarePatch, rectanglePatch, namedShape, sparsePixels, type PatchThreat } from '@patchcert/bounds';
import { paperModel, customModel, randomImages, randomLabels, assertClose, throwsCode, conv, dense, relu, flatten, CIFAR_NORM } from './_helpers.js';

await initBackend('wasm');

/** Same tolerance as locationMargins' fast == naive tests (float32 summation order). */
const RTOL = 1e-5;

const c = suite('certify');

const cases: [string, () => SequentialModel, [number, number, number], PatchThreat[]][] = [
  ['mlp', () => paperModel('mlp', [28, 28, 1], 3, [32]), [28, 28, 1], [squarePatch(2), rectanglePatch(3, 2), namedShape('diamond', 5)]],
  ['cnn-4layer small', () => paperModel('cnn-4layer', [14, 14, 1], 4, [16, 16]), [14, 14, 1], [squarePatch(2), squarePatch(5), namedShape('diamond', 13)]],
  ['conv then one dense', () => customModel([conv(3, 3, 2, 1), relu, flatten, dense(5)], [7, 7, 1], 6, 5), [7, 7, 1], [squarePatch(2), namedShape('diamond', 5)]],
  ['conv asymmetric', () => customModel([
    { type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: [0, 2, 1, 0] }, relu, conv(4, 3, 2, 1), relu, flatten, dense(6), relu, dense(4)], [9, 10, 3], 5, 4, CIFAR_NORM), [9, 10, 3], [squarePatch(3), namedShape('parallelogram', 4)]],
];
for (const [name, make, shape, threats] of cases) {
  for (const threat of threats) {
    c(`[${name} ${threat.name}] should give the naive margin map and verdicts with the fast method`, () => {
      const rng = new Rng(shape[0] + threat.pixelCount);
      const model = make();
      const x = randomImages(rng, 3, shape);
      const y = randomLabels(rng, 3, model.numClasses);
      const fast = certify(model, x, y, threat, { marginMap: true, imageBatch: 2, chunk: 500 });
      const naive = certify(model, x, y, threat, { marginMap: true, method: 'naive' });
      assert.is(fast.locations, threat.locations(shape[0], shape[1]));
      for (let i = 0; i < 3; i++) assertClose(fast.marginMap![i]!, naive.marginMap![i]!, RTOL, `${name} image ${i}`);
      assertClose(fast.worstMargin, naive.worstMargin, RTOL, 'worst');
      assert.equal(Array.from(fast.correct), Array.from(naive.correct));
      // The worst location and class point at the worst entry of the map.
      for (let i = 0; i < 3; i++) {
        assert.is(fast.marginMap![i]![fast.worstLocation[i]! * model.numClasses + fast.worstClass[i]!], fast.worstMargin[i]);
        assert.is(fast.certified[i], fast.worstMargin[i]! >= 0 ? 1 : 0);
      }
      model.dispose();
    });
  }
}

c('[mlp 3 ch, normalized] should give the naive margin map at eps 1 (one radius term shared by the batch) and at eps 0.4 (per image)', () => {
  const rng = new Rng(41);
  const model = customModel([flatten, dense(24), relu, dense(10)], [10, 10, 3], 42, 10, CIFAR_NORM);
  const x = randomImages(rng, 5, [10, 10, 3]);
  const y = randomLabels(rng, 5, 10);
  for (const eps of [1, 0.4]) {
    const fast = certify(model, x, y, squarePatch(3), { eps, marginMap: true, imageBatch: 4 });
    const naive = certify(model, x, y, squarePatch(3), { eps, marginMap: true, method: 'naive' });
    for (let i = 0; i < 5; i++) assertClose(fast.marginMap![i]!, naive.marginMap![i]!, RTOL, `eps ${eps} image ${i}`);
  }
  model.dispose();
});

c('should agree with locationMargins for given locations and for the sparse threats', () => {
  const rng = new Rng(14);
  for (const [arch, shape] of [['mlp', [12, 12, 1]], ['cnn-2layer', [12, 12, 3]]] as const) {
    const model = paperModel(arch, [...shape], 15, [20]);
    const x = randomImages(rng, 3, [...shape]);
    const y = randomLabels(rng, 3);
    for (const threat of [squarePatch(3, { at: [[9, 0], [0, 9], [4, 5], [9, 9], [0, 0]] }), sparsePixels(3), sparsePixels(3, { tight: true })]) {
      const res = certify(model, x, y, threat, { marginMap: true });
      const ref = locationMargins(model, x, y, threat, { eps: 1, method: 'naive' }).dataSync();
      const per = ref.length / 3;
      for (let i = 0; i < 3; i++) assertClose(res.marginMap![i]!, ref.subarray(i * per, (i + 1) * per), RTOL, `${arch} ${threat.name} image ${i}`);
    }
    model.dispose();
  }
});

c('should certify only images no sampled patch flips (and certified images are correct)', () => {
  const rng = new Rng(11);
  const shape: [number, number, number] = [10, 10, 1];
  // A model that is robust by construction on bright images: logit 0 sums all pixels, others 0.
  const model = customModel([flatten, dense(4), relu, dense(3)], shape, 2, 3);
  const k = new Float32Array(100 * 4);
  for (let p = 0; p < 100; p++) k[p * 4] = 0.1;
  model.weights[1]!.kernel.assign(tf.tensor2d(k, [100, 4]));
  model.weights[1]!.bias.assign(tf.zeros([4]));
  const k2 = new Float32Array(4 * 3);
  k2[0] = 1;
  model.weights[3]!.kernel.assign(tf.tensor2d(k2, [4, 3]));
  model.weights[3]!.bias.assign(tf.tensor1d([-2, 0, 0]));
  const x = tf.concat([tf.fill([2, 10, 10, 1], 0.9), tf.fill([1, 10, 10, 1], 0.1), randomImages(rng, 2, shape)]) as tf.Tensor4D;
  const y = [0, 0, 0, 1, 2];
  const threat = squarePatch(3);
  const res = certify(model, x, y, threat);
  assert.equal(Array.from(res.certified).slice(0, 3), [1, 1, 0], 'bright images certified, dark not');
  const px = x.dataSync();
  for (let i = 0; i < 5; i++) {
    if (!res.certified[i]) continue;
    assert.is(res.correct[i], 1);
    for (let l = 0; l < threat.locations(10, 10); l += 3) {
      const mask = threat.maskAt(l, 10, 10);
      const d = Float32Array.from(px.subarray(i * 100, (i + 1) * 100), (v, p) => (mask[p] ? (rng.next() < 0.5 ? 0 : rng.next()) : v));
      const pred = tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(d, [1, 10, 10, 1])), 1).dataSync()[0]);
      assert.is(pred, y[i], `image ${i} location ${l}`);
    }
  }
});

c('should certify trained-looking random CNN verdicts consistently with sampled attacks', () => {
  const rng = new Rng(12);
  const shape: [number, number, number] = [8, 8, 1];
  const model = customModel([conv(2, 3, 1, 1), relu, flatten, dense(6), relu, dense(3)], shape, 21, 3);
  const x = randomImages(rng, 8, shape);
  const pred = Array.from(tf.argMax(model.predict(x), 1).dataSync());
  const threat = squarePatch(2);
  const res = certify(model, x, pred, threat, { eps: 0.05 });
  assert.ok(res.certified.some((v) => v === 1), 'some images certify at a small eps');
  const px = x.dataSync();
  for (let i = 0; i < 8; i++) {
    if (!res.certified[i]) continue;
    for (let l = 0; l < 49; l++) {
      const mask = threat.maskAt(l, 8, 8);
      for (const s of [0, 1]) {
        const d = Float32Array.from(px.subarray(i * 64, (i + 1) * 64), (v, p) => (mask[p] ? Math.min(1, Math.max(0, v + (s ? 0.05 : -0.05))) : v));
        assert.is(tf.tidy(() => tf.argMax(model.predict(tf.tensor4d(d, [1, 8, 8, 1])), 1).dataSync()[0]), pred[i]);
      }
    }
  }
});

c('should not leak tensors across repeated calls', () => {
  const rng = new Rng(13);
  const model = paperModel('cnn-2layer', [16, 16, 1], 3, [16]);
  const x = randomImages(rng, 3, [16, 16, 1]);
  const y = randomLabels(rng, 3);
  certify(model, x, y, squarePatch(2));
  const before = tf.memory().numTensors;
  for (const method of ['fast', 'naive'] as const) {
    for (const t of [squarePatch(2), namedShape('diamond', 5), sparsePixels(3), sparsePixels(3, { tight: true })]) certify(model, x, y, t, { method, chunk: 40, imageBatch: 2 });
  }
  assert.is(tf.memory().numTensors, before);
});

c('should throw coded errors for bad inputs', () => {
  const model = customModel([flatten, dense(6), relu, dense(3)], [4, 4, 1], 3, 3);
  const x = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
  throwsCode(() => certify(model, x, [0, 1], squarePatch(5)), 'INVALID_ARGUMENT');
  throwsCode(() => certify(model, x, [0, 1, 2], squarePatch(2)), 'SHAPE_MISMATCH');
  throwsCode(() => certify(model, x, [0, 7], squarePatch(2)), 'INVALID_ARGUMENT');
  throwsCode(() => certify(model, x, [0, 1], squarePatch(2), { imageBatch: 0 }), 'INVALID_OPTION');
  throwsCode(() => certify(model, x, [0, 1], squarePatch(2), { eps: Number.NaN }), 'INVALID_OPTION');
  throwsCode(() => certify(model, tf.zeros([2, 4, 4, 3]) as tf.Tensor4D, [0, 1], squarePatch(2)), 'SHAPE_MISMATCH');
  throwsCode(() => certify(model, x, [0, 1], {} as never), 'INVALID_OPTION');
});
c.run();
