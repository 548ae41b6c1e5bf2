import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { locationMargins, worstMargins, squarePatch, rectanglePatch, namedShape, shapePatch, sparsePixels, type PatchThreat } from '@patchcert/bounds';
import { paperModel, customModel, randomImages, randomLabels, assertClose, throwsCode, conv, dense, relu, flatten, CIFAR_NORM } from './_helpers.js';

await initBackend('wasm');

/**
 * Tolerance of fast vs naive: |a − b| ≤ RTOL·max(1, |b|). The two paths add the same float32
 * terms in a different order (clean + local term vs full sums), so they agree to float32
 * rounding accumulated over a few hundred terms per unit; 1e-5 holds with margin.
 */
const RTOL = 1e-5;

function corners(t: PatchThreat, h: number, w: number): PatchThreat {
  const [gh, gw] = t.grid(h, w);
  return t.at([[0, 0], [0, gw - 1], [gh - 1, 0], [gh - 1, gw - 1], [Math.floor(gh / 2), Math.floor(gw / 2)]]);
}

function fastEqualsNaive(model: SequentialModel, x: tf.Tensor4D, y: Int32Array, threat: PatchThreat, eps: number, tag: string): void {
  const a = locationMargins(model, x, y, threat, { eps, method: 'fast' });
  const b = locationMargins(model, x, y, threat, { eps, method: 'naive' });
  assert.equal(a.shape, b.shape);
  assertClose(a.dataSync(), b.dataSync(), RTOL, tag);
  tf.dispose([a, b]);
}

const lm = suite('locationMargins');

const small: [string, () => SequentialModel, [number, number, number]][] = [
  ['mlp', () => customModel([flatten, dense(12), relu, dense(8), relu, dense(5)], [7, 6, 2], 11, 5, { mean: [0.5, 0.2], std: [0.3, 0.25] }), [7, 6, 2]],
  ['conv s1/s2', () => customModel([conv(3, 3, 1, 1), relu, conv(4, 4, 2, 1), relu, conv(3, 3, 1, 1), relu, flatten, dense(7), relu, dense(5)], [9, 8, 1], 12, 5), [9, 8, 1]],
  ['conv asymmetric', () => customModel([
    { type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: [0, 2, 1, 0] }, relu,
    { type: 'conv2d', filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: [1, 0, 0, 1] }, relu, flatten, dense(6), relu, dense(4)], [8, 9, 3], 13, 4, CIFAR_NORM), [8, 9, 3]],
  ['conv big kernel', () => customModel([conv(2, 5, 1, 2), relu, conv(3, 3, 3, 0), relu, flatten, dense(5)], [9, 9, 1], 14, 5), [9, 9, 1]],
];
for (const [name, make, shape] of small) {
  for (const threat of [squarePatch(2), squarePatch(3), rectanglePatch(1, 4), namedShape('diamond', 5), shapePatch([[1, 0, 1], [0, 1, 0]])]) {
    lm(`[${name} ${threat.name}] should equal the naive path at every location`, () => {
      const rng = new Rng(shape[0] * 31 + threat.pixelCount);
      const model = make();
      const x = randomImages(rng, 3, shape);
      const y = randomLabels(rng, 3, model.numClasses);
      fastEqualsNaive(model, x, y, threat, 1, `${name} ${threat.name} eps=1`);
      fastEqualsNaive(model, x, y, threat, 0.2, `${name} ${threat.name} eps=0.2`);
      model.dispose();
    });
  }
}

const paper: [string, [number, number, number]][] = [
  ['mlp', [28, 28, 1]], ['cnn-2layer', [28, 28, 1]], ['cnn-4layer', [28, 28, 1]], ['mlp', [32, 32, 3]], ['cnn-2layer', [32, 32, 3]],
  ['cnn-4layer', [32, 32, 3]], ['cnn-4layer-conv11', [32, 32, 3]], ['cnn-4layer-conv13', [32, 32, 3]], ['cnn-5layer-wide', [32, 32, 3]],
];
for (const [arch, shape] of paper) {
  lm(`[${arch} ${shape.join('x')}] should equal the naive path at the corners and centre for 2×2, 5×5 and a parallelogram`, () => {
    const rng = new Rng(7);
    const model = paperModel(arch, shape, 21);
    const x = randomImages(rng, 1, shape);
    const y = randomLabels(rng, 1);
    for (const t of [squarePatch(2), squarePatch(5), namedShape('parallelogram', 4)]) fastEqualsNaive(model, x, y, corners(t, shape[0], shape[1]), 1, `${arch} ${t.name}`);
    model.dispose();
  });
}

lm('should lower-bound the true margins of concrete patched images (random values and 0/1 vertices) at every location', () => {
  const rng = new Rng(9);
  const shape: [number, number, number] = [8, 8, 2];
  const model = customModel([conv(3, 3, 1, 1), relu, conv(4, 4, 2, 1), relu, flatten, dense(8), relu, dense(4)], shape, 15, 4, { mean: [0.4, 0.5], std: [0.2, 0.3] });
  const x = randomImages(rng, 2, shape);
  const y = randomLabels(rng, 2, 4);
  for (const [threat, eps] of [[squarePatch(3), 1], [namedShape('diamond', 5), 0.4]] as const) {
    const bound = locationMargins(model, x, y, threat, { eps }).arraySync() as number[][][];
    const px = x.dataSync();
    const total = threat.locations(8, 8);
    for (let l = 0; l < total; l++) {
      const mask = threat.maskAt(l, 8, 8);
      for (let s = 0; s < 4; s++) {
        const d = Float32Array.from(px);
        for (let i = 0; i < d.length; i++) {
          if (!mask[Math.floor(i / 2) % 64]) continue;
          const v = px[i]!;
          const lo = Math.max(0, v - eps);
          const hi = Math.min(1, v + eps);
          d[i] = s < 2 ? (rng.next() < 0.5 ? lo : hi) : lo + rng.next() * (hi - lo);
        }
        const z = tf.tidy(() => model.predict(tf.tensor4d(d, x.shape)).arraySync() as number[][]);
        for (let b = 0; b < 2; b++) for (let j = 0; j < 4; j++) {
          const m = z[b]![y[b]!]! - z[b]![j]!;
          if (!(m >= bound[b]![l]![j]! - 1e-5)) assert.unreachable(`location ${l} image ${b} class ${j}: margin ${m} < bound ${bound[b]![l]![j]}`);
        }
      }
    }
  }
});

lm('should give [B, 1, classes] for the sparse threat and throw for bad inputs', () => {
  const rng = new Rng(3);
  const model = customModel([flatten, dense(6), relu, dense(3)], [4, 4, 1], 3, 3);
  const x = randomImages(rng, 2, [4, 4, 1]);
  assert.equal(locationMargins(model, x, [0, 1], sparsePixels(2), { eps: 1 }).shape, [2, 1, 3]);
  throwsCode(() => locationMargins(model, x, [0], squarePatch(2), { eps: 1 }), 'SHAPE_MISMATCH');
  throwsCode(() => locationMargins(model, x, [0, 1], squarePatch(5), { eps: 1 }), 'INVALID_ARGUMENT');
  throwsCode(() => locationMargins(model, x, [0, 1], squarePatch(2), { eps: 1, method: 'exact' as never }), 'INVALID_OPTION');
  throwsCode(() => locationMargins(model, x, [0, 3], squarePatch(2), { eps: 1 }), 'INVALID_ARGUMENT');
  throwsCode(() => locationMargins(model, tf.zeros([2, 5, 4, 1]) as tf.Tensor4D, [0, 1], squarePatch(2), { eps: 1 }), 'SHAPE_MISMATCH');
});
lm.run();

// ---

const wm = suite('worstMargins');

wm('should be the per-class minimum of locationMargins, with 0 in the y slot', () => {
  const rng = new Rng(4);
  const model = paperModel('cnn-2layer', [28, 28, 1], 5);
  const x = randomImages(rng, 2, [28, 28, 1]);
  const y = randomLabels(rng, 2);
  const all = locationMargins(model, x, y, squarePatch(5), { eps: 1 });
  const w = worstMargins(model, x, y, squarePatch(5), { eps: 1, chunk: 100 });
  assertClose(w.dataSync(), tf.min(all, 1).dataSync(), 1e-6, 'worst');
  const wv = w.arraySync() as number[][];
  for (let b = 0; b < 2; b++) assert.is(wv[b]![y[b]!], 0);
});

wm('should use per-image locations [B·k] and match the same locations taken one by one', () => {
  const rng = new Rng(5);
  const model = paperModel('mlp', [28, 28, 1], 6);
  const x = randomImages(rng, 2, [28, 28, 1]);
  const y = randomLabels(rng, 2);
  const locs = Int32Array.from([0, 728, 26, 400, 702, 3]);
  const all = locationMargins(model, x, y, squarePatch(2), { eps: 1 }).arraySync() as number[][][];
  for (const method of ['fast', 'naive'] as const) {
    const w = worstMargins(model, x, y, squarePatch(2), { eps: 1, locations: locs, method }).arraySync() as number[][];
    for (let b = 0; b < 2; b++) for (let j = 0; j < 10; j++) {
      const expect = Math.min(...[0, 1, 2].map((i) => all[b]![locs[b * 3 + i]!]![j]!));
      assert.ok(Math.abs(w[b]![j]! - expect) <= 1e-5 * Math.max(1, Math.abs(expect)), `${method} ${b} ${j}`);
    }
  }
  throwsCode(() => worstMargins(model, x, y, squarePatch(2), { eps: 1, locations: Int32Array.from([1, 2, 3]) }), 'SHAPE_MISMATCH');
  throwsCode(() => worstMargins(model, x, y, squarePatch(2), { eps: 1, locations: Int32Array.from([1, 729]) }), 'INVALID_ARGUMENT');
});

for (const arch of ['mlp', 'cnn-2layer'] as const) {
  wm(`[${arch}] should match the naive path for many per-image locations (the fast plans' row selection)`, () => {
    const rng = new Rng(8);
    const model = paperModel(arch, [16, 16, 1], 9, [24]);
    const x = randomImages(rng, 3, [16, 16, 1]);
    const y = randomLabels(rng, 3);
    const total = squarePatch(3).locations(16, 16);
    const locs = Int32Array.from({ length: 3 * 40 }, (_, i) => (i % 40 === 0 ? total - 1 : rng.int(total)));
    const f = locationMargins(model, x, y, squarePatch(3), { eps: 1, locations: locs, method: 'fast' });
    const n = locationMargins(model, x, y, squarePatch(3), { eps: 1, locations: locs, method: 'naive' });
    assert.equal(f.shape, [3, 40, 10]);
    assertClose(f.dataSync(), n.dataSync(), RTOL, arch);
  });
}

for (const [arch, shape] of [['mlp', [12, 12, 1]], ['cnn-4layer', [12, 12, 1]]] as const) {
  wm(`[${arch}] should be differentiable inside tf.variableGrads with the same gradients fast and naive`, () => {
    const rng = new Rng(6);
    const model = paperModel(arch, [...shape], 8, arch === 'mlp' ? [16] : [16, 16]);
    const x = randomImages(rng, 2, [...shape]);
    const y = randomLabels(rng, 2);
    const oh = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
    const grads = (method: 'fast' | 'naive') => tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oh, tf.neg(worstMargins(model, x, y, squarePatch(3), { eps: 0.7, method }))) as tf.Scalar, model.trainableVariables());
    const gf = grads('fast');
    const gn = grads('naive');
    assertClose([gf.value.dataSync()[0]!], [gn.value.dataSync()[0]!], 1e-5, 'loss');
    let nonzero = 0;
    for (const v of model.trainableVariables()) {
      const a = gf.grads[v.name]!.dataSync();
      const b = gn.grads[v.name]!.dataSync();
      assertClose(a, b, 1e-4, `grad ${v.name}`);
      nonzero += a.reduce((s, t) => s + (t !== 0 ? 1 : 0), 0);
    }
    assert.ok(nonzero > 0, 'gradients reach the weights');
  });
}

for (const [arch, shape, hidden] of [['mlp', [14, 14, 1], [32]], ['cnn-4layer', [12, 12, 1], [16, 16]]] as const) {
  wm(`[${arch}] should give every location's minimum and gradients while bounding only the candidate minimisers on the tape`, async () => {
    const rng = new Rng(12);
    const model = paperModel(arch, [...shape], 13, [...hidden]);
    const x = randomImages(rng, 3, [...shape]);
    const y = randomLabels(rng, 3);
    const oh = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
    const threat = squarePatch(2);
    // Reference: every location's margins on the tape, then the per-class minimum.
    const full = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oh, tf.neg(tf.min(locationMargins(model, x, y, threat, { eps: 1 }), 1))) as tf.Scalar, model.trainableVariables());
    const fast = tf.variableGrads(() => {
      const before = tf.memory().numTensors;
      const w = worstMargins(model, x, y, threat, { eps: 1 });
      assert.ok(tf.memory().numTensors - before < 200, 'the ranking pass leaves no tensors behind');
      return tf.losses.softmaxCrossEntropy(oh, tf.neg(w)) as tf.Scalar;
    }, model.trainableVariables());
    assertClose([fast.value.dataSync()[0]!], [full.value.dataSync()[0]!], 1e-6, 'loss');
    for (const v of model.trainableVariables()) assertClose(fast.grads[v.name]!.dataSync(), full.grads[v.name]!.dataSync(), 1e-4, `grad ${v.name}`);
    // The tape held only a few rows per image: far less memory than every location's.
    const total = threat.locations(shape[0], shape[1]);
    const peak = async (f: () => tf.Tensor) => (await tf.profile(() => tf.dispose(tf.variableGrads(() => tf.sum(f()) as tf.Scalar, model.trainableVariables()).grads))).peakBytes;
    const peakFull = await peak(() => tf.min(locationMargins(model, x, y, threat, { eps: 1 }), 1));
    const peakFast = await peak(() => worstMargins(model, x, y, threat, { eps: 1 }));
    assert.ok(peakFast < peakFull / 2, `peak bytes ${peakFast} vs ${peakFull}`);
    const m = worstMargins(model, x, y, threat, { eps: 1 }).arraySync() as number[][];
    const all = tf.min(locationMargins(model, x, y, threat, { eps: 1 }), 1).arraySync() as number[][];
    for (let b = 0; b < 3; b++) {
      assert.is(m[b]![y[b]!], 0);
      for (let j = 0; j < 10; j++) assert.ok(Math.abs(m[b]![j]! - all[b]![j]!) <= 1e-5 * Math.max(1, Math.abs(all[b]![j]!)), `${b} ${j} of ${total}`);
    }
  });
}

wm('[mlp] should keep the tape to a few rows per image when small eps makes most locations near-ties, with every location\'s loss and gradients', () => {
  // eps 1e-3: every location's margins lie within the candidate tolerance of the minimum, so the
  // candidates are capped to each class's first minimiser (5×5 on MNIST with 72 rows per image
  // on the tape ran the wasm heap out of memory).
  const rng = new Rng(31);
  const model = paperModel('mlp', [16, 16, 1], 32, [24]);
  const x = randomImages(rng, 4, [16, 16, 1]);
  const y = randomLabels(rng, 4);
  const oh = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
  const threat = squarePatch(5);
  const eps = 1e-3;
  const full = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oh, tf.neg(tf.min(locationMargins(model, x, y, threat, { eps }), 1))) as tf.Scalar, model.trainableVariables());
  const fast = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oh, tf.neg(worstMargins(model, x, y, threat, { eps }))) as tf.Scalar, model.trainableVariables());
  assertClose([fast.value.dataSync()[0]!], [full.value.dataSync()[0]!], 1e-6, 'loss');
  for (const v of model.trainableVariables()) assertClose(fast.grads[v.name]!.dataSync(), full.grads[v.name]!.dataSync(), 1e-4, `grad ${v.name}`);
});

for (const [tag, shape, threat] of [
  ['mlp 1 ch, 2x2', [12, 12, 1], squarePatch(2)],
  ['mlp 3 ch, diamond', [10, 10, 3], namedShape('diamond', 5)],
  ['mlp 2 ch, 3x2 rectangle', [9, 11, 2], rectanglePatch(3, 2)],
] as const) {
  wm(`[${tag}] should give the naive values and gradients for a few explicit locations per image (random-k training)`, () => {
    const rng = new Rng(21);
    const model = paperModel('mlp', [...shape], 22, [20]);
    const x = randomImages(rng, 3, [...shape]);
    const y = randomLabels(rng, 3);
    const total = (threat as PatchThreat).locations(shape[0], shape[1]);
    const locs = Int32Array.from({ length: 3 * 4 }, (_, i) => (i === 0 ? total - 1 : i === 1 ? 0 : rng.int(total)));
    const oh = tf.oneHot(tf.tensor1d(y, 'int32'), 10);
    const run = (method: 'fast' | 'naive') => tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oh, tf.neg(worstMargins(model, x, y, threat, { eps: 0.8, locations: locs, method }))) as tf.Scalar, model.trainableVariables());
    const f = run('fast');
    const n = run('naive');
    assertClose([f.value.dataSync()[0]!], [n.value.dataSync()[0]!], 1e-5, 'loss');
    for (const v of model.trainableVariables()) assertClose(f.grads[v.name]!.dataSync(), n.grads[v.name]!.dataSync(), 1e-4, `grad ${v.name}`);
    const lf = locationMargins(model, x, y, threat, { eps: 0.8, locations: locs, method: 'fast' });
    const ln = locationMargins(model, x, y, threat, { eps: 0.8, locations: locs, method: 'naive' });
    assertClose(lf.dataSync(), ln.dataSync(), RTOL, 'margins');
  });
}

wm('should send the gradient to one minimiser when locations tie (eps 0, repeated random locations)', () => {
  const rng = new Rng(11);
  const model = paperModel('mlp', [28, 28, 1], 12);
  const x = randomImages(rng, 3, [28, 28, 1]);
  const y = randomLabels(rng, 3);
  const vars = model.trainableVariables();
  const gradsOf = (f: () => tf.Tensor): Float32Array[] => {
    const { grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, vars);
    const out = vars.map((v) => grads[v.name]!.dataSync() as Float32Array);
    tf.dispose(grads);
    return out;
  };
  // At eps 0 every location's box is the clean image: all 729 locations tie, and the minimum's
  // gradient must be that of one location (PyTorch's min), not 729 times it.
  const one = gradsOf(() => worstMargins(model, x, y, squarePatch(2), { eps: 0, locations: Int32Array.from([5, 5, 5]) }));
  const all = gradsOf(() => worstMargins(model, x, y, squarePatch(2), { eps: 0 }));
  one.forEach((g, i) => assertClose(all[i]!, g, 1e-4, `eps 0 all-patch grad ${i}`));
  // random(k) draws with replacement: a repeated location counts once.
  const single = gradsOf(() => worstMargins(model, x, y, squarePatch(2), { eps: 1, locations: Int32Array.from([7, 100, 300]) }));
  const twice = gradsOf(() => worstMargins(model, x, y, squarePatch(2), { eps: 1, locations: Int32Array.from([7, 7, 100, 100, 300, 300]) }));
  single.forEach((g, i) => assertClose(twice[i]!, g, 1e-5, `repeated location grad ${i}`));
});

wm('should throw INVALID_OPTION for a negative eps or a bad chunk', () => {
  const rng = new Rng(3);
  const model = customModel([flatten, dense(6), relu, dense(3)], [4, 4, 1], 3, 3);
  const x = randomImages(rng, 1, [4, 4, 1]);
  throwsCode(() => worstMargins(model, x, [0], squarePatch(2), { eps: -0.1 }), 'INVALID_OPTION');
  throwsCode(() => worstMargins(model, x, [0], squarePatch(2), { eps: 1, chunk: 0 }), 'INVALID_OPTION');
});
wm.run();
