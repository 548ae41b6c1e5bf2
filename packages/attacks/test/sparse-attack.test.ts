import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { sparseAttack } from '@patchcert/attacks';
import { trainedMlp, mnist, throwsCode } from './helpers.js';
import { pixelDetector, black } from './toy-models.js';

interface Ctx {
  model: SequentialModel;
  x: tf.Tensor4D;
  y: Int32Array;
}

const sparse = suite<Ctx>('sparseAttack');

sparse.before(async (ctx) => {
  await initBackend('wasm');
  ctx.model = await trainedMlp();
  const d = await mnist('test', 40);
  ctx.x = d.x;
  ctx.y = d.y;
});

sparse.after((ctx) => {
  ctx.model.dispose();
  ctx.x.dispose();
});

sparse('should lower an MNIST MLP\'s accuracy while changing at most k pixels', ({ model, x, y }) => {
  const k = 8;
  const r = sparseAttack(model, x, y, { k, restarts: 4, steps: 30, seed: 1 });
  assert.ok(r.adversarialAccuracy < r.cleanAccuracy - 0.1, `clean ${r.cleanAccuracy} adv ${r.adversarialAccuracy}`);
  const changed = tf.tidy(() => tf.sum(tf.notEqual(r.adversarial, x).toFloat(), [1, 2, 3]).dataSync());
  changed.forEach((c, i) => assert.ok(c <= k, `image ${i} changed ${c} pixels`));
  r.adversarial.dispose();
});

sparse('should pick the salient pixel first', () => {
  // Only pixel (2,3) matters; k = 1 must find it at restart 0 without luck.
  const model = pixelDetector(6, [[2, 3]]);
  const x = tf.fill([1, 6, 6, 1], 0.1) as tf.Tensor4D;
  const r = sparseAttack(model, x, [0], { k: 1, restarts: 1, steps: 20, randomStart: 0 });
  assert.is(r.success[0], 1);
  const d = tf.tidy(() => tf.notEqual(r.adversarial, x).toFloat().reshape([6, 6]).arraySync()) as number[][];
  assert.is(d[2]![3], 1);
  r.adversarial.dispose();
  model.dispose();
});

sparse('should fail when k pixels cannot reach the decision boundary', () => {
  // Four pixels must all be bright to pass the bias 3.5; two are not enough.
  const model = pixelDetector(6, [[0, 0], [1, 1], [2, 2], [3, 3]], 3.5);
  const x = black(1, 6);
  assert.is(sparseAttack(model, x, [0], { k: 2, restarts: 3, steps: 25 }).success[0], 0);
  assert.is(sparseAttack(model, x, [0], { k: 4, restarts: 3, steps: 25 }).success[0], 1);
  model.dispose();
});

sparse('should be deterministic for a seed', ({ model, x, y }) => {
  const a = sparseAttack(model, x, y, { k: 3, restarts: 2, steps: 5, seed: 9, stopOnSuccess: false });
  const b = sparseAttack(model, x, y, { k: 3, restarts: 2, steps: 5, seed: 9, stopOnSuccess: false });
  assert.equal(a.bestLoss, b.bestLoss);
  assert.is(tf.tidy(() => tf.max(tf.abs(tf.sub(a.adversarial, b.adversarial))).dataSync()[0]), 0);
  a.adversarial.dispose();
  b.adversarial.dispose();
});

sparse('should throw with a code for bad options', ({ model, x, y }) => {
  throwsCode(() => sparseAttack(model, x, y, {} as never), 'INVALID_OPTION');
  throwsCode(() => sparseAttack(model, x, y, { k: 0 }), 'INVALID_OPTION');
  throwsCode(() => sparseAttack(model, x, y, { k: 785 }), 'INVALID_OPTION');
  throwsCode(() => sparseAttack(model, x, y, { k: 2, restarts: 0 }), 'INVALID_OPTION');
  throwsCode(() => sparseAttack(model, x, [0], { k: 2 }), 'SHAPE_MISMATCH');
});

sparse.run();
