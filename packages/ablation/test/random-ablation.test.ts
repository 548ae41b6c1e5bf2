import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { ablationDelta, certifyRandomAblation, clopperPearsonLower, DEFAULT_RANDOM_ABLATION_CERTIFY } from '@patchcert/ablation';
import { assertClose, randomImages, throwsCode, tinyModel } from './helpers.js';

const H = 8;
const W = 8;

/** A model that always answers `cls`: every kernel 0, the last bias one-hot. */
function constantModel(cls: number): ReturnType<typeof tinyModel> {
  const model = tinyModel(H, W, 1, 3, 0);
  for (const w of model.weights) if (w) w.kernel.assign(tf.zerosLike(w.kernel));
  const last = model.weights[model.weights.length - 1]!;
  last.bias.assign(tf.oneHot([cls], 3).reshape([3]).toFloat());
  return model;
}

const certify = suite('certifyRandomAblation');

certify.before(async () => {
  await initBackend('wasm');
});

certify('should give pA = α^(1/n) for a classifier that always answers the same class, and certify k iff pA > 1/2 + Δ(k)', () => {
  const model = constantModel(2);
  const x = randomImages(3, H, W, 1, 1);
  const ks = [0, 1, 2, 5, 10, 64];
  const r = certifyRandomAblation(model, x, [2, 2, 0], { kKeep: 4, k: ks, n0: 10, n: 200, alpha: 0.01, seed: 3 });
  const pA = clopperPearsonLower(200, 200, 0.01);
  assertClose(pA, Math.pow(0.01, 1 / 200), 1e-12);
  assert.equal(Array.from(r.predicted), [2, 2, 2]);
  assert.equal(Array.from(r.correct), [1, 1, 0]);
  assert.is(r.forwardPassesPerImage, 210);
  ks.forEach((k, j) => {
    const expected = pA > 0.5 + ablationDelta(64, 4, k) ? 1 : 0;
    assert.equal(Array.from(r.robust[j]!), [expected, expected, expected], `k=${k}`);
    assert.equal(Array.from(r.certified[j]!), [expected, expected, 0], `k=${k}`);
  });
  // pA − 1/2 ≈ 0.477; Δ(5) = 1 − C(59,4)/C(64,4) ≈ 0.284 is below it, Δ(10) ≈ 0.502 above.
  assert.is(r.robust[3]![0], 1);
  assert.is(r.robust[4]![0], 0);
  for (let i = 0; i < 3; i++) {
    const kMax = r.maxCertifiedK[i]!;
    assert.ok(pA > 0.5 + ablationDelta(64, 4, kMax) && !(pA > 0.5 + ablationDelta(64, 4, kMax + 1)), `maxCertifiedK ${kMax}`);
  }
  tf.dispose(x);
  model.dispose();
});

certify('should be reproducible with a seed and consistent with its own bound on a random classifier', () => {
  const model = tinyModel(H, W, 1, 3, 7);
  const x = randomImages(6, H, W, 1, 8);
  const labels = [0, 1, 2, 0, 1, 2];
  const opts = { kKeep: 10, k: [1, 3], n0: 20, n: 300, alpha: 0.05, seed: 9, batchSize: 128 };
  const before = tf.memory().numTensors;
  const a = certifyRandomAblation(model, x, labels, opts);
  assert.is(tf.memory().numTensors, before, 'no tensor leaks');
  const b = certifyRandomAblation(model, x, labels, { ...opts, batchSize: 1000 });
  assert.equal(Array.from(a.pALower), Array.from(b.pALower), 'batch size changes nothing');
  assert.equal(Array.from(a.predicted), Array.from(b.predicted));
  for (let i = 0; i < 6; i++) {
    const pA = a.pALower[i]!;
    // pA is a Clopper–Pearson bound of some count out of n = 300.
    let isBound = false;
    for (let hits = 0; hits <= 300 && !isBound; hits++) isBound = Math.abs(clopperPearsonLower(hits, 300, 0.05) - pA) < 1e-12;
    assert.ok(isBound, `pA ${pA}`);
    assert.is(a.predicted[i], pA > 0.5 ? a.topClass[i] : -1);
    assert.is(a.robust[0]![i], pA > 0.5 + ablationDelta(64, 10, 1) ? 1 : 0);
    assert.is(a.robust[1]![i], pA > 0.5 + ablationDelta(64, 10, 3) ? 1 : 0);
  }
  tf.dispose(x);
  model.dispose();
});

certify('should write its defaults out in full', () => {
  assert.equal({ ...DEFAULT_RANDOM_ABLATION_CERTIFY }, { n0: 100, n: 1000, alpha: 0.05, seed: 0, batchSize: 1024 });
});

certify('should throw INVALID_OPTION for kKeep > H·W, alpha ≥ 1 or k > H·W, SHAPE_MISMATCH for a model of the wrong shape', () => {
  const model = tinyModel(H, W, 1, 3, 7);
  const x = randomImages(1, H, W, 1, 8);
  throwsCode(() => certifyRandomAblation(model, x, [0], { kKeep: 65, k: [1] }), 'INVALID_OPTION');
  throwsCode(() => certifyRandomAblation(model, x, [0], { kKeep: 4, k: [1], alpha: 1 }), 'INVALID_OPTION');
  throwsCode(() => certifyRandomAblation(model, x, [0], { kKeep: 4, k: [65] }), 'INVALID_OPTION');
  throwsCode(() => certifyRandomAblation(model, x, [0], { kKeep: 4, k: [] }), 'INVALID_OPTION');
  const wide = randomImages(1, H, W, 2, 8);
  throwsCode(() => certifyRandomAblation(model, wide, [0], { kKeep: 4, k: [1] }), 'SHAPE_MISMATCH');
  tf.dispose([x, wide]);
  model.dispose();
});

certify.run();
