import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { squarePatch } from '@patchcert/bounds';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { patchAttack, localGradientSmoothing, digitalWatermarking } from '@patchcert/attacks';
import { trainedMlp, mnist, throwsCode } from './helpers.js';
import { pixelDetector, black } from './toy-models.js';

interface Ctx {
  model: SequentialModel;
  x: tf.Tensor4D;
  y: Int32Array;
}

const attack = suite<Ctx>('patchAttack');

attack.before(async (ctx) => {
  await initBackend('wasm');
  ctx.model = await trainedMlp();
  const d = await mnist('test', 60);
  ctx.x = d.x;
  ctx.y = d.y;
});

attack.after((ctx) => {
  ctx.model.dispose();
  ctx.x.dispose();
});

attack('should lower an MNIST MLP\'s accuracy with a 2x2 patch at random locations', ({ model, x, y }) => {
  const r = patchAttack(model, x, y, { threat: '2x2', restarts: 8, steps: 30, seed: 1 });
  assert.ok(r.cleanAccuracy > 0.75, `clean ${r.cleanAccuracy}`);
  assert.ok(r.adversarialAccuracy < r.cleanAccuracy - 0.05, `clean ${r.cleanAccuracy} adv ${r.adversarialAccuracy}`);
  // Every reported success is witnessed by the kept iterate.
  r.success.forEach((s, i) => {
    if (s && r.cleanCorrect[i]) assert.is.not(r.adversarialPrediction[i], y[i], `image ${i}`);
    assert.ok(r.successByBestLoss[i]! <= s);
  });
  // The kept iterate differs from the clean image only inside its 2x2 patch.
  const diff = tf.tidy(() => tf.notEqual(r.adversarial, x).toFloat().reshape([60, 28, 28]).arraySync()) as number[][][];
  diff.forEach((img, i) => {
    const [oy, ox] = [r.location[2 * i]!, r.location[2 * i + 1]!];
    img.forEach((row, a) => row.forEach((v, b) => {
      if (v) assert.ok(oy >= 0 && a >= oy && a < oy + 2 && b >= ox && b < ox + 2, `image ${i} pixel ${a},${b} outside patch at ${oy},${ox}`);
    }));
  });
  r.adversarial.dispose();
});

attack('should break more images with a 5x5 patch than with a 2x2 one', ({ model, x, y }) => {
  const small = patchAttack(model, x, y, { threat: 2, restarts: 4, steps: 20, seed: 2 });
  const large = patchAttack(model, x, y, { threat: 5, restarts: 4, steps: 20, seed: 2 });
  assert.ok(large.adversarialAccuracy < small.adversarialAccuracy, `${large.adversarialAccuracy} vs ${small.adversarialAccuracy}`);
  assert.ok(large.adversarialAccuracy < 0.5, `5x5 adv ${large.adversarialAccuracy}`);
  small.adversarial.dispose();
  large.adversarial.dispose();
});

attack('should give identical results for the same seed and other locations for another', ({ model, x, y }) => {
  const opts = { threat: '3x3', restarts: 3, steps: 10, seed: 7, stopOnSuccess: false } as const;
  const a = patchAttack(model, x, y, opts);
  const b = patchAttack(model, x, y, opts);
  const c = patchAttack(model, x, y, { ...opts, seed: 8 });
  assert.equal(a.success, b.success);
  assert.equal(a.location, b.location);
  assert.equal(a.bestLoss, b.bestLoss);
  assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(a.adversarial, b.adversarial))).dataSync()[0]) === 0);
  assert.not.equal(a.location, c.location);
  for (const r of [a, b, c]) r.adversarial.dispose();
});

attack('should send images to the requested targets in a targeted attack', ({ model, x, y }) => {
  const r = patchAttack(model, x, y, { threat: '6x6', restarts: 4, steps: 40, seed: 3, targeted: 'random' });
  assert.ok(r.targets !== undefined);
  let hits = 0;
  r.targets!.forEach((t, i) => {
    assert.is.not(t, y[i]);
    if (r.success[i]) {
      hits++;
      assert.is(r.adversarialPrediction[i], t, `image ${i}`);
    }
  });
  assert.ok(hits >= 10, `only ${hits}/60 targeted successes`);
  r.adversarial.dispose();
});

attack('should change only the pixels of a shaped patch', ({ model, x, y }) => {
  const plus = [[0, 1, 0], [1, 1, 1], [0, 1, 0]];
  const r = patchAttack(model, x, y, { threat: { mask: plus }, restarts: 2, steps: 10, seed: 4 });
  const diff = tf.tidy(() => tf.notEqual(r.adversarial, x).toFloat().reshape([60, 28, 28]).arraySync()) as number[][][];
  let changed = 0;
  diff.forEach((img, i) => {
    const [oy, ox] = [r.location[2 * i]!, r.location[2 * i + 1]!];
    img.forEach((row, a) => row.forEach((v, b) => {
      if (!v) return;
      changed++;
      assert.is(plus[a - oy]?.[b - ox], 1, `image ${i} pixel ${a},${b} outside the plus at ${oy},${ox}`);
    }));
  });
  assert.ok(changed > 0);
  r.adversarial.dispose();
});

attack('should reach the last row and column of origins unless referenceQuirk is set', () => {
  const model = pixelDetector(6, [[5, 5]]);
  const x = black(4, 6);
  const y = [0, 0, 0, 0];
  // 25 origins: 150 restarts miss (4,4) with probability 0.96^150 ≈ 0.2% per image.
  const full = patchAttack(model, x, y, { threat: 2, restarts: 150, steps: 20, seed: 1 });
  const quirk = patchAttack(model, x, y, { threat: 2, restarts: 150, steps: 20, seed: 1, referenceQuirk: true });
  assert.equal(Array.from(full.success), [1, 1, 1, 1]);
  assert.equal(Array.from(full.location), [4, 4, 4, 4, 4, 4, 4, 4]);
  assert.equal(Array.from(quirk.success), [0, 0, 0, 0]);
  for (const r of [full, quirk]) r.adversarial.dispose();
  x.dispose();
  model.dispose();
});

attack('should find a central weak spot with placement all but not with corners', () => {
  const model = pixelDetector(8, [[3, 4]]);
  const x = black(2, 8);
  const corners = patchAttack(model, x, [0, 0], { threat: 2, placement: 'corners', restarts: 8, steps: 5 });
  const all = patchAttack(model, x, [0, 0], { threat: 2, placement: 'all', steps: 5 });
  assert.equal(Array.from(corners.success), [0, 0]);
  assert.equal(Array.from(all.success), [1, 1]);
  const [oy, ox] = [all.location[0]!, all.location[1]!];
  assert.ok(oy <= 3 && 3 < oy + 2 && ox <= 4 && 4 < ox + 2, `origin ${oy},${ox}`);
  // Corner origins only: (0,0), (0,6), (6,0), (6,6).
  for (let i = 0; i < 2; i++) assert.ok([0, 6].includes(corners.location[2 * i]!) && [0, 6].includes(corners.location[2 * i + 1]!));
  for (const r of [corners, all]) r.adversarial.dispose();
  x.dispose();
  model.dispose();
});

attack('should attack only the fixed locations of a bounds threat', () => {
  const model = pixelDetector(6, [[5, 5]]);
  const x = black(1, 6);
  const away = patchAttack(model, x, [0], { threat: squarePatch(2).at([[0, 0], [2, 2]]), placement: 'all', steps: 5 });
  const onSpot = patchAttack(model, x, [0], { threat: squarePatch(2).at([[4, 4]]), restarts: 3, steps: 5 });
  assert.is(away.success[0], 0);
  assert.is(onSpot.success[0], 1);
  assert.equal(Array.from(onSpot.location), [4, 4]);
  for (const r of [away, onSpot]) r.adversarial.dispose();
  x.dispose();
  model.dispose();
});

attack('should count a misclassified clean image as broken without attacking it', () => {
  const model = pixelDetector(6, [[5, 5]]);
  const x = black(2, 6);
  const r = patchAttack(model, x, [1, 0], { threat: 1, placement: 'corners', restarts: 4, steps: 3 });
  assert.equal(Array.from(r.cleanCorrect), [0, 1]);
  assert.is(r.success[0], 1);
  assert.is(r.location[0], -1);
  assert.is(r.cleanAccuracy, 0.5);
  r.adversarial.dispose();
  x.dispose();
  model.dispose();
});

attack('[rgb conv] should attack a CIFAR-shaped conv model directly and through both defenses', () => {
  const model = buildModel('cnn-2layer', { inputShape: [32, 32, 3], numClasses: 10, seed: 3, normalization: { mean: [0.485, 0.456, 0.406], std: [0.225, 0.225, 0.225] } });
  const x = tf.randomUniform([4, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const y = Array.from(tf.tidy(() => tf.argMax(model.predict(x), 1).dataSync()));
  for (const defense of [undefined, localGradientSmoothing(), digitalWatermarking()]) {
    const r = patchAttack(model, x, y, { threat: 5, restarts: 2, steps: 10, seed: 1, ...(defense ? { defense } : {}) });
    assert.is(r.adversarial.shape.join(), '4,32,32,3');
    assert.ok(r.evaluations > 0);
    // An untrained network's margins are tiny: a 5x5 patch flips some of them.
    if (!defense) assert.ok(r.adversarialAccuracy < r.cleanAccuracy, `adv ${r.adversarialAccuracy}`);
    r.adversarial.dispose();
  }
  x.dispose();
  model.dispose();
});

attack('should leave no tensors behind', ({ model, x, y }) => {
  const before = tf.memory().numTensors;
  const r = patchAttack(model, x, y, { threat: 2, restarts: 2, steps: 3, batchSize: 50 });
  r.adversarial.dispose();
  assert.is(tf.memory().numTensors, before);
});

attack('should throw with a code for bad inputs and options', ({ model, x, y }) => {
  throwsCode(() => patchAttack(model, tf.zeros([2, 28, 28]) as never, [0, 1], { threat: 2 }), 'SHAPE_MISMATCH');
  throwsCode(() => patchAttack(model, x, [1, 2], { threat: 2 }), 'SHAPE_MISMATCH');
  throwsCode(() => patchAttack(model, x, Array.from(y, () => 12), { threat: 2 }), 'INVALID_ARGUMENT');
  throwsCode(() => patchAttack(model, x, y, {} as never), 'INVALID_OPTION');
  throwsCode(() => patchAttack(model, x, y, { threat: 29 }), 'INVALID_OPTION');
  throwsCode(() => patchAttack(model, x, y, { threat: 2, placement: 'edges' as never }), 'INVALID_OPTION');
  throwsCode(() => patchAttack(model, x, y, { threat: 2, steps: -1 }), 'INVALID_OPTION');
  throwsCode(() => patchAttack(model, x, y, { threat: 2, restart: 3 } as never), 'INVALID_OPTION');
  throwsCode(() => patchAttack(model, x, y, { threat: 2, targeted: y }), 'INVALID_OPTION');
  throwsCode(() => patchAttack(model, x, y, { threat: squarePatch(2).at([[27, 0]]) }), 'INVALID_OPTION');
});

attack.run();
