import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tf, Rng } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { squarePatch, rectanglePatch, shapePatch, sparsePixels, locationMargins } from '@patchcert/bounds';
import { guidedPatches, threatGrid } from '@patchcert/unet-guide';
import { initTrainingBackend, throwsCode } from './___helpers.js';

interface Ctx {
  model: SequentialModel;
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}
const guided = suite<Ctx>('guidedPatches');
const THREAT = squarePatch(2);
const B = 4;

guided.before(async (ctx) => {
  await initTrainingBackend();
  ctx.model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, hidden: [32], seed: 1 });
  ctx.x = tf.randomUniform([B, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  ctx.y = tf.tensor1d([3, 1, 4, 1], 'int32');
});

guided.after((ctx) => {
  ctx.model.dispose();
  tf.dispose([ctx.x, ctx.y]);
});

guided('should return the per-class minimum over the drawn locations, 0 at y, no lower than all-patch', (ctx) => {
  let seen: { locations: Int32Array; lm: number[] } | null = null;
  const s = guidedPatches({
    k: 10,
    threat: THREAT,
    seed: 1,
    locationMargins: (m, x, y, t, o) => {
      const lm = locationMargins(m, x, y, t, o);
      seen = { locations: o.locations.slice(), lm: Array.from(lm.dataSync()) };
      return lm;
    },
  });
  const base = { model: ctx.model, images: ctx.x, labels: ctx.y, eps: 1, rng: new Rng(1) };
  const m = s.margins({ ...base, training: false });
  assert.equal(m.shape, [B, 10]);
  const got = m.arraySync();
  const rec = seen as unknown as { locations: Int32Array; lm: number[] };
  const width = rec.locations.length / B;
  assert.ok(width >= 1 && width <= 10, `at most 10 distinct locations per image, got ${width}`);
  const labels = [3, 1, 4, 1];
  for (let n = 0; n < B; n++) {
    assert.is(got[n]![labels[n]!], 0);
    for (let j = 0; j < 10; j++) {
      let min = Infinity;
      for (let q = 0; q < width; q++) min = Math.min(min, rec.lm[(n * width + q) * 10 + j]!);
      assert.ok(Math.abs(got[n]![j]! - min) < 1e-5);
    }
  }
  // Sound as a loss input: never below the true worst case over all 729 locations.
  const all = new Int32Array(B * 729).map((_, i) => i % 729);
  const worst = tf.tidy(() => tf.min(locationMargins(ctx.model, ctx.x, ctx.y, THREAT, { locations: all, eps: 1 }), 1).arraySync()) as number[][];
  for (let n = 0; n < B; n++) for (let j = 0; j < 10; j++) assert.ok(got[n]![j]! >= worst[n]![j]! - 1e-5);
  m.dispose();
  s.dispose();
});

guided('should be differentiable w.r.t. the classifier and train the U-Net in a training batch without leaks', (ctx) => {
  const s = guidedPatches({ k: 20, threat: THREAT, seed: 2, learningRate: 1e-3 });
  const c = { model: ctx.model, images: ctx.x, labels: ctx.y, eps: 0.5, rng: new Rng(2), training: true };
  // First batch builds the U-Net and its optimizer; count tensors from the second on.
  tf.tidy(() => s.margins(c));
  const before = tf.memory().numTensors;
  const vars = ctx.model.trainableVariables();
  const w0 = Array.from(s.guide!.unet.trainableVariables()[0]!.dataSync());
  const { value, grads } = tf.variableGrads(() => tf.sum(s.margins(c)) as tf.Scalar, vars);
  assert.is(Object.keys(grads).length, vars.length);
  assert.ok(Object.values(grads).some((g) => tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]!) > 0));
  tf.dispose([value, ...Object.values(grads)]);
  assert.ok(Number.isFinite(s.lastUNetLoss) && s.lastUNetLoss > 0);
  assert.not.equal(Array.from(s.guide!.unet.trainableVariables()[0]!.dataSync()), w0);
  assert.is(tf.memory().numTensors, before);
  assert.ok(s.lastLocationsPerImage <= 20);
  s.dispose();
});

guided('should resume from getState: same U-Net, same draws, same margins', async (ctx) => {
  const a = guidedPatches({ k: 10, threat: THREAT, seed: 3, learningRate: 1e-3 });
  const c = { model: ctx.model, images: ctx.x, labels: ctx.y, eps: 1, rng: new Rng(3), training: true };
  tf.dispose(a.margins(c));
  const state = JSON.parse(JSON.stringify(await a.getState()));
  const b = guidedPatches({ k: 10, threat: THREAT, seed: 99 });
  await b.setState(state);
  const ma = a.margins({ ...c, rng: new Rng(7), training: false });
  const mb = b.margins({ ...c, rng: new Rng(7), training: false });
  assert.equal(mb.arraySync(), ma.arraySync());
  const pa = a.guide!.predict(ctx.x);
  const pb = b.guide!.predict(ctx.x);
  assert.equal(Array.from(pb.dataSync()), Array.from(pa.dataSync()));
  tf.dispose([ma, mb, pa, pb]);
  a.dispose();
  b.dispose();
});

guided('[accumulateGradients] should zero the summed gradients when ctx.epoch changes and follow ctx.lr', (ctx) => {
  const s = guidedPatches({ k: 10, threat: THREAT, seed: 4, accumulateGradients: true });
  let zeroed = 0;
  const step = (epoch: number, lr: number) => {
    const c = { model: ctx.model, images: ctx.x, labels: ctx.y, eps: 1, rng: new Rng(epoch), training: true, epoch, lr };
    // The sum carried into this batch (the U-Net is fitted inside margins).
    const carried = s.guide !== null && s.guide.getState().accumulated !== null;
    tf.dispose(s.margins(c));
    if (zeroed < 0) {
      const g = s.guide!;
      const startEpoch = g.startEpoch.bind(g);
      g.startEpoch = () => { zeroed++; startEpoch(); };
      zeroed = 0;
    }
    return carried;
  };
  zeroed = -1;
  assert.is(step(0, 1e-3), false);
  assert.is(step(0, 1e-3), true, 'within an epoch the sum carries over');
  assert.is(zeroed, 0);
  assert.is(s.guide!.learningRate, 1e-3);
  step(1, 5e-4);
  assert.is(zeroed, 1, 'a new epoch starts from zero');
  assert.ok(s.guide!.getState().accumulated !== null, 'and sums its own batches');
  assert.is(s.guide!.learningRate, 5e-4);
  s.dispose();
});

guided('should throw for a k that is not a multiple of the classes, a fixed-location threat or no threat', (ctx) => {
  throwsCode(() => guidedPatches({ k: 0 }), 'INVALID_OPTION');
  const s = guidedPatches({ k: 15, threat: THREAT });
  throwsCode(() => s.margins({ model: ctx.model, images: ctx.x, labels: ctx.y, eps: 1, rng: new Rng(1), training: true }), 'INVALID_OPTION');
  const fixed = guidedPatches({ k: 10, threat: squarePatch(2, { at: [[0, 0]] }) });
  throwsCode(() => fixed.margins({ model: ctx.model, images: ctx.x, labels: ctx.y, eps: 1, rng: new Rng(1), training: true }), 'INVALID_OPTION');
  const none = guidedPatches({ k: 10 });
  throwsCode(() => none.margins({ model: ctx.model, images: ctx.x, labels: ctx.y, eps: 1, rng: new Rng(1), training: true }), 'INVALID_ARGUMENT');
});

guided('should hand each image\'s gradient to one copy of a repeated location (as the reference\'s min(dim))', () => {
  // 16 locations on a 5×5 image and 10 draws per image: most rows repeat their first location.
  const model = buildModel('mlp', { inputShape: [5, 5, 1], numClasses: 10, hidden: [8], seed: 2 });
  const x = tf.randomUniform([6, 5, 5, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32');
  const scale = tf.variable(tf.scalar(1));
  let seen: Int32Array | null = null;
  // Stand-in bounds: location q's margin is (q + 1)·scale for every class, so copies tie exactly.
  const s = guidedPatches({
    k: 10,
    threat: THREAT,
    seed: 1,
    locationMargins: (_m, _x, _y, _t, o) => {
      seen = o.locations.slice();
      return tf.mul(scale, tf.tile(tf.reshape(tf.add(tf.tensor1d(o.locations, 'float32'), 1), [6, -1, 1]), [1, 1, 10])) as tf.Tensor3D;
    },
  });
  try {
    const g = tf.grad(() => tf.sum(s.margins({ model, images: x, labels: y, eps: 1, rng: new Rng(4), training: false })))(scale as unknown as tf.Tensor);
    const locations = seen as unknown as Int32Array;
    const width = locations.length / 6;
    let repeats = 0;
    let expected = 0;
    for (let n = 0; n < 6; n++) {
      const row = Array.from(locations.subarray(n * width, (n + 1) * width));
      repeats += row.length - new Set(row).size;
      expected += 10 * (Math.min(...row) + 1);
    }
    assert.ok(repeats > 0, 'some rows repeat a location');
    assert.is(g.dataSync()[0], expected);
  } finally {
    s.dispose();
    model.dispose();
    tf.dispose([x, y, scale]);
  }
});

guided('[workers: 2] should give the margins and U-Net updates of one thread, with checkpoints that move between the two', async (ctx) => {
  const one = guidedPatches({ k: 10, threat: THREAT, seed: 1 });
  const two = guidedPatches({ k: 10, threat: THREAT, seed: 1, workers: 2 });
  const base = { model: ctx.model, images: ctx.x, labels: ctx.y, eps: 1 };
  const r1 = new Rng(3);
  const r2 = new Rng(3);
  const close = (a: tf.Tensor, b: tf.Tensor, what: string) => {
    const [va, vb] = [a.dataSync(), b.dataSync()];
    for (let i = 0; i < va.length; i++) assert.ok(Math.abs(va[i]! - vb[i]!) <= 1e-5 * (1 + Math.abs(va[i]!)), `${what}: ${va[i]} vs ${vb[i]}`);
    tf.dispose([a, b]);
  };
  try {
    for (let step = 0; step < 2; step++) {
      close(one.margins({ ...base, rng: r1, training: true }), two.margins({ ...base, rng: r2, training: true }), `training step ${step}`);
      assert.ok(Math.abs(one.lastUNetLoss - two.lastUNetLoss) <= 1e-5 * one.lastUNetLoss, `U-Net loss ${one.lastUNetLoss} vs ${two.lastUNetLoss}`);
    }
    assert.is(two.guide, null);
    assert.is(two.pool!.workers, 2);
    close(one.margins({ ...base, rng: r1, training: false }), two.margins({ ...base, rng: r2, training: false }), 'eval');
    // A worker pool's checkpoint resumes in one thread and the other way round.
    const fromTwo = guidedPatches({ k: 10, threat: THREAT, seed: 7 });
    const fromOne = guidedPatches({ k: 10, threat: THREAT, seed: 7, workers: 2 });
    await fromTwo.setState(await two.getState());
    await fromOne.setState(await one.getState());
    const r3 = Rng.fromState(r1.getState());
    close(fromTwo.margins({ ...base, rng: r1, training: true }), fromOne.margins({ ...base, rng: r3, training: true }), 'after resuming');
    fromTwo.dispose();
    fromOne.dispose();
  } finally {
    one.dispose();
    two.dispose();
  }
  throwsCode(() => guidedPatches({ k: 10, threat: THREAT, workers: 0 }), 'INVALID_OPTION', /workers must be a positive integer/);
});

guided.run();

// ---

const grid = suite('threatGrid');

grid('should give the corner grid and patch box of squares, rectangles and shapes', () => {
  assert.equal(threatGrid(squarePatch(2), 28, 28, 'test'), { grid: [27, 27], patch: [2, 2] });
  assert.equal(threatGrid(squarePatch(5), 32, 32, 'test'), { grid: [28, 28], patch: [5, 5] });
  assert.equal(threatGrid(rectanglePatch(1, 4), 28, 28, 'test'), { grid: [28, 25], patch: [1, 4] });
  const cross = shapePatch([[0, 1, 0], [1, 1, 1], [0, 1, 0]]);
  assert.equal(threatGrid(cross, 28, 28, 'test'), { grid: [26, 26], patch: [3, 3] });
});

grid('should throw for sparse threats, fixed locations and patches larger than the image', () => {
  throwsCode(() => threatGrid(sparsePixels(4), 28, 28, 'test'), 'INVALID_ARGUMENT');
  throwsCode(() => threatGrid(squarePatch(2, { at: [[0, 0]] }), 28, 28, 'test'), 'INVALID_OPTION');
  throwsCode(() => threatGrid(squarePatch(30), 28, 28, 'test'), 'INVALID_ARGUMENT');
});

grid.run();
