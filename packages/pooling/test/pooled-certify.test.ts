import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { certify, squarePatch, worstMargins, type MarginStrategyContext } from '@patchcert/bounds';
import { pooledCertify, pooledPatches, parsePoolSpec, poolSpecName } from '@patchcert/pooling';
import { customModel, randomImages, randomLabels, throwsCode, conv, dense, relu, flatten } from './_helpers.js';

await initBackend('wasm');

/** Structured images (a bright bar whose place encodes the label), so a few steps of training certify some. */
function barImages(n: number, h: number, w: number, classes: number): { x: tf.Tensor4D; y: Int32Array } {
  const d = new Float32Array(n * h * w);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % classes;
    const col = Math.floor(((y[i]! + 0.5) * w) / classes);
    for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) d[i * h * w + r * w + c] = Math.abs(c - col) <= 1 ? 1 : 0;
  }
  return { x: tf.tensor4d(d, [n, h, w, 1]), y };
}

/** A few full-batch Adam steps on the pooled loss (what the trainer's `pooled` strategy does per batch). */
function trainPooled(model: SequentialModel, x: tf.Tensor4D, y: Int32Array, pool: number[], steps: number, eps: number): number[] {
  const strategy = pooledPatches({ pool, threat: squarePatch(2) });
  const labels = tf.tensor1d(y, 'int32');
  const opt = tf.train.adam(0.01);
  const onehot = tf.oneHot(labels, model.numClasses);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const ctx: MarginStrategyContext = { model, images: x, labels, eps, rng: new Rng(s), training: true };
    const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(onehot, tf.neg(strategy.margins(ctx))) as tf.Scalar, true, model.trainableVariables());
    losses.push(loss!.dataSync()[0]!);
    loss!.dispose();
  }
  tf.dispose([labels, onehot]);
  opt.dispose();
  return losses;
}

const pc = suite('pooledCertify');

const cases: [string, () => SequentialModel, [number, number, number]][] = [
  ['mlp', () => customModel([flatten, dense(24), relu, dense(16), relu, dense(4)], [10, 10, 1], 8, 4), [10, 10, 1]],
  ['conv', () => customModel([conv(4, 3, 1, 1), relu, conv(4, 4, 2, 1), relu, flatten, dense(16), relu, dense(4)], [10, 10, 1], 9, 4), [10, 10, 1]],
];
for (const [name, make, shape] of cases) {
  pc(`[${name}] should certify only images the exact certificate certifies, random and briefly trained`, () => {
    const model = make();
    const rng = new Rng(1);
    const rx = randomImages(rng, 6, shape);
    const ry = randomLabels(rng, 6, 4);
    const { x, y } = barImages(16, shape[0], shape[1], 4);
    const losses = trainPooled(model, x, y, parsePoolSpec('pool2', model), 25, 0.05);
    assert.ok(losses[losses.length - 1]! < losses[0]!, `pooled training should lower its loss (${losses[0]} → ${losses[losses.length - 1]})`);
    let pooledCertified = 0;
    for (const [images, labels] of [[rx, ry], [x, y]] as const) {
      const exact = certify(model, images, labels, squarePatch(2), { eps: 0.05 });
      for (const spec of ['pool2', 'pool4', 'pool2-2']) {
        for (const method of ['fast', 'naive'] as const) {
          const p = pooledCertify(model, images, labels, squarePatch(2), { pool: spec, eps: 0.05, method, imageBatch: 5 });
          for (let i = 0; i < labels.length; i++) {
            assert.ok(p.worstMargin[i]! <= exact.worstMargin[i]! + 1e-5, `${spec} ${method} image ${i}: pooled ${p.worstMargin[i]} > exact ${exact.worstMargin[i]}`);
            if (p.certified[i]) assert.is(exact.certified[i], 1, `${spec} image ${i}: pooled certified but exact not`);
            assert.is(p.correct[i], exact.correct[i]);
            pooledCertified += p.certified[i]!;
          }
        }
      }
    }
    assert.ok(pooledCertified > 0, 'the trained model should have pooled-certified images, so the implication is exercised');
    model.dispose();
    tf.dispose([rx, x]);
  });
}

pc('[cnn-4layer 28x28 pool2] should report a 14×14 grid of 2×2 blocks and agree between fast and naive', () => {
  const model = buildModel('cnn-4layer', { inputShape: [28, 28, 1], numClasses: 10, seed: 2 });
  const rng = new Rng(3);
  const x = randomImages(rng, 2, [28, 28, 1]);
  const y = randomLabels(rng, 2);
  const a = pooledCertify(model, x, y, squarePatch(2), { pool: 'pool2' });
  const b = pooledCertify(model, x, y, squarePatch(2), { pool: [2], method: 'naive' });
  assert.equal(a.grid, { rows: 14, cols: 14, span: 2 });
  for (let i = 0; i < 2; i++) assert.ok(Math.abs(a.worstMargin[i]! - b.worstMargin[i]!) <= 1e-5 * Math.max(1, Math.abs(b.worstMargin[i]!)), `${a.worstMargin[i]} vs ${b.worstMargin[i]}`);
  model.dispose();
});

pc('should throw INVALID_OPTION for an unknown pool name', () => {
  const model = cases[0]![1]();
  throwsCode(() => pooledCertify(model, tf.zeros([1, 10, 10, 1]) as tf.Tensor4D, [0], squarePatch(2), { pool: 'pool' }), 'INVALID_OPTION');
  model.dispose();
});

pc.run();

// ---

const ps = suite('parsePoolSpec');

ps('should count affine layers: pool2/pool4/pool2-2/pool212 on the 4-layer CNN and the MLP', () => {
  const cnn = buildModel('cnn-4layer', { inputShape: [28, 28, 1], numClasses: 10 });
  const mlp = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, hidden: [32, 32] });
  assert.equal(parsePoolSpec('pool2', cnn), [2]);
  assert.equal(parsePoolSpec('pool4', cnn), [4]);
  assert.equal(parsePoolSpec('pool2-2', cnn), [2, 1, 2]);
  assert.equal(parsePoolSpec('pool212', cnn), [2, 1, 2]);
  assert.equal(parsePoolSpec('pool2', mlp), [1, 2]);
  assert.equal(parsePoolSpec('pool2-2', mlp), [1, 2, 1, 2]);
  assert.equal(parsePoolSpec([2, 1, 2], cnn), [2, 1, 2]);
  assert.is(poolSpecName([2, 1, 2]), 'pool(2,1,2)');
  cnn.dispose();
  mlp.dispose();
});

ps('should throw INVALID_OPTION for zero sizes, pooling at the last layer, or too few affine layers', () => {
  const mlp = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, hidden: [32] });
  throwsCode(() => parsePoolSpec([0], mlp), 'INVALID_OPTION');
  throwsCode(() => parsePoolSpec([1, 1, 1, 2], mlp), 'INVALID_OPTION');
  throwsCode(() => parsePoolSpec('pool2-2', mlp), 'INVALID_OPTION');
  throwsCode(() => parsePoolSpec('max2', mlp), 'INVALID_OPTION');
  mlp.dispose();
});

ps.run();

// ---

const pp = suite('pooledPatches');

pp('should bound at most all-patch, equal it without pooling, and take the threat from the context', () => {
  const model = cases[1]![1]();
  const rng = new Rng(4);
  const x = randomImages(rng, 3, [10, 10, 1]);
  const labels = tf.tensor1d(randomLabels(rng, 3, 4), 'int32');
  const ctx: MarginStrategyContext = { model, images: x, labels, eps: 0.5, rng, training: true, threat: squarePatch(2) };
  const all = worstMargins(model, x, labels, squarePatch(2), { eps: 0.5 }).dataSync();
  const none = tf.tidy(() => pooledPatches({ pool: [1] }).margins(ctx).dataSync());
  const p2 = tf.tidy(() => pooledPatches({ pool: 'pool2' }).margins(ctx).dataSync());
  for (let i = 0; i < all.length; i++) {
    assert.ok(Math.abs(none[i]! - all[i]!) <= 1e-5 * Math.max(1, Math.abs(all[i]!)), `no pooling: ${none[i]} vs ${all[i]}`);
    assert.ok(p2[i]! <= all[i]! + 1e-5, `pool2: ${p2[i]} > ${all[i]}`);
  }
  assert.is(pooledPatches({ pool: [2, 1, 2] }).name, 'pool(2,1,2)');
  throwsCode(() => pooledPatches({ pool: [2] }).margins({ ...ctx, threat: undefined } as MarginStrategyContext), 'INVALID_OPTION');
  model.dispose();
  tf.dispose([x, labels]);
});

pp.run();
