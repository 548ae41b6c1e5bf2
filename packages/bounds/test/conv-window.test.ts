// The conv-window plan on explicit per-row origins (random-k training's rows), on and off the
// gradient tape, against the naive plan: values and gradients, corner locations included.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { certify, squarePatch, rectanglePatch, namedShape, type PatchThreat } from '@patchcert/bounds';
import { prepareBatch, disposeBatch, explicitOrigins } from '../src/internal/batch.js';
import { createPlan } from '../src/internal/create-plan.js';
import { foldMinOverLocations } from '../src/internal/min-over-locations.js';
import { copyRuns, type Runs } from '../src/internal/host-gather.js';
import { paperModel, customModel, randomImages, randomLabels, assertClose, conv, dense, relu, flatten, CIFAR_NORM } from './_helpers.js';

await initBackend('wasm');

const RTOL = 1e-5;
const cw = suite('conv-window plan, explicit rows');

/** Per-image locations: the four corners and the centre first, then random ones. */
function locations(rng: Rng, threat: PatchThreat, h: number, w: number, batch: number, k: number): Int32Array {
  const [gh, gw] = threat.grid(h, w);
  const fixed = [0, gw - 1, (gh - 1) * gw, gh * gw - 1, Math.floor(gh / 2) * gw + Math.floor(gw / 2)];
  return Int32Array.from({ length: batch * k }, (_, i) => (i < fixed.length ? fixed[i]! : rng.int(gh * gw)));
}

/** Margins `[batch, k, classes]` of the rows through one plan (on the tape when `taped`). */
function margins(model: SequentialModel, x: tf.Tensor4D, y: Int32Array, threat: PatchThreat, locs: Int32Array, k: number, method: 'fast' | 'naive', taped: boolean): tf.Tensor3D {
  const prep = taped ? prepareBatch(model, x, y, 0.8) : { ...prepareBatch(model, x, y, 0.8), hostLabels: y };
  const plan = createPlan(prep, threat, method, taped);
  try {
    const [batch, h, w] = x.shape;
    return plan.margins(explicitOrigins(threat, h, w, batch, locs, k, 0, k));
  } finally {
    plan.dispose();
    disposeBatch(prep);
  }
}

const models: [string, () => SequentialModel, [number, number, number]][] = [
  // Maps at the flatten of 7×6 and 6×5 cells: 2×2 windows of 5×5 start at several cells.
  ['cnn-4layer', () => paperModel('cnn-4layer', [28, 26, 1], 31, [24, 16]), [28, 26, 1]],
  ['cnn-4layer cifar', () => paperModel('cnn-4layer', [22, 20, 3], 32, [20, 12]), [22, 20, 3]],
  ['conv asymmetric', () => customModel([
    { type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: [0, 2, 1, 0] }, relu,
    { type: 'conv2d', filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: [1, 0, 0, 1] }, relu, flatten, dense(6), relu, dense(4)], [8, 9, 3], 13, 4, CIFAR_NORM), [8, 9, 3]],
  // No dense layer between the flatten and the logits: the full-map path.
  ['conv → logits', () => customModel([conv(3, 3, 1, 1), relu, conv(4, 4, 2, 1), relu, flatten, dense(5)], [9, 8, 1], 12, 5), [9, 8, 1]],
];

for (const [name, make, shape] of models) {
  for (const threat of [squarePatch(2), rectanglePatch(3, 2), namedShape('diamond', 5)]) {
    cw(`[${name} ${threat.name}] should equal the naive plan on explicit rows, with the same gradients`, () => {
      const rng = new Rng(shape[0] * 7 + threat.pixelCount);
      const model = make();
      const batch = 3;
      const k = 6;
      const x = randomImages(rng, batch, shape);
      const y = randomLabels(rng, batch, model.numClasses);
      const locs = locations(rng, threat, shape[0], shape[1], batch, k);
      for (const taped of [true, false]) {
        const a = margins(model, x, y, threat, locs, k, 'fast', taped);
        const b = margins(model, x, y, threat, locs, k, 'naive', taped);
        assert.equal(a.shape, b.shape);
        assertClose(a.dataSync(), b.dataSync(), RTOL, `${name} ${threat.name} taped=${taped}`);
        tf.dispose([a, b]);
      }
      const oh = tf.oneHot(tf.tensor1d(y, 'int32'), model.numClasses);
      const grads = (method: 'fast' | 'naive') =>
        tf.variableGrads(() => tf.losses.softmaxCrossEntropy(oh, tf.neg(foldMinOverLocations((visit) => visit(margins(model, x, y, threat, locs, k, method, true))))) as tf.Scalar, model.trainableVariables());
      const gf = grads('fast');
      const gn = grads('naive');
      assertClose([gf.value.dataSync()[0]!], [gn.value.dataSync()[0]!], RTOL, 'loss');
      let nonzero = 0;
      for (const v of model.trainableVariables()) {
        const g = gf.grads[v.name]!.dataSync();
        assertClose(g, gn.grads[v.name]!.dataSync(), 1e-4, `grad ${v.name}`);
        for (const e of g) if (e !== 0) nonzero++;
      }
      assert.ok(nonzero > 0, 'gradients reach the weights');
      tf.dispose([gf.value, gn.value, ...Object.values(gf.grads), ...Object.values(gn.grads), oh, x]);
      model.dispose();
    });
  }
}

cw('[cnn-4layer 28x26] certify should give the naive margin map at every location, with windows at the flatten starting at several cells', () => {
  const rng = new Rng(41);
  const model = paperModel('cnn-4layer', [28, 26, 1], 42, [24, 16]);
  const x = randomImages(rng, 3, [28, 26, 1]);
  const y = randomLabels(rng, 3);
  for (const threat of [squarePatch(2), rectanglePatch(2, 3)]) {
    const fast = certify(model, x, y, threat, { marginMap: true, eps: 0.6 });
    const naive = certify(model, x, y, threat, { marginMap: true, eps: 0.6, method: 'naive' });
    fast.marginMap!.forEach((m, i) => assertClose(m, naive.marginMap![i]!, RTOL, `${threat.name} image ${i}`));
    assert.equal(Array.from(fast.worstLocation), Array.from(naive.worstLocation));
  }
  tf.dispose(x);
  model.dispose();
});

const runs = suite('copyRuns');

runs('should copy runs from several sources with zeros between and after them, and reject a run outside its source', () => {
  const a = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const b = tf.tensor1d(Float32Array.from({ length: 40 }, (_, i) => 100 + i));
  // b[3..23) is 20 floats: long enough for the heap copy; a's runs are short loops.
  // [count, 4]: source, offset, length, zeros before.
  const r: Runs = { data: Int32Array.from([0, 2, 3, 1, 1, 3, 20, 0, 0, 9, 1, 2]), count: 3 };
  const out = copyRuns([a, b], r, 30);
  const want = [0, 2, 3, 4, ...Array.from({ length: 20 }, (_, i) => 103 + i), 0, 0, 9, 0, 0, 0];
  assert.equal(Array.from(out.dataSync()), want);
  const before = tf.memory().numTensors;
  const outside = Int32Array.from(r.data);
  outside[1] = 8; // run 0 reads a[8..11)
  assert.throws(() => copyRuns([a, b], { data: outside, count: 3 }, 30), /run 0 must read inside an input/);
  assert.is(tf.memory().numTensors, before, 'no tensor leaks from a rejected copy');
  tf.dispose([a, b, out]);
});

cw.run();
runs.run();
