import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tf, Rng } from '@patchcert/backend';
import { UNetGuide, type GuidedSample } from '@patchcert/unet-guide';
import { initTrainingBackend, throwsCode } from './___helpers.js';

const guideSuite = suite('UNetGuide');

guideSuite.before(async () => {
  await initTrainingBackend();
});

const B = 6;
const CLASSES = 10;

function images(seed: number): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.add(tf.randomUniform([B, 28, 28, 1], 0, 1, 'float32', seed), 0), 0, 1)) as tf.Tensor4D;
}

/**
 * A synthetic stand-in for IBP margins, depending on the image under the 2×2 patch: bright
 * windows are "harder" (lower margin), classes differ by an offset, 0 in the y slot.
 */
function syntheticMargins(x: tf.Tensor4D, labels: number[], s: GuidedSample): Float32Array {
  const px = x.dataSync();
  const out = new Float32Array(s.batch * s.width * CLASSES);
  const cols = s.grid[1];
  for (let n = 0; n < s.batch; n++) {
    for (let q = 0; q < s.width; q++) {
      const loc = s.locations[n * s.width + q]!;
      const r = Math.floor(loc / cols);
      const c = loc % cols;
      let sum = 0;
      for (let dr = 0; dr < 2; dr++) for (let dc = 0; dc < 2; dc++) sum += px[n * 784 + (r + dr) * 28 + (c + dc)]!;
      for (let j = 0; j < CLASSES; j++) out[(n * s.width + q) * CLASSES + j] = j === labels[n] ? 0 : 1 + 0.2 * j - sum;
    }
  }
  return out;
}

guideSuite('should return the MSE over all draws and classes, true-class zeros included', () => {
  const guide = new UNetGuide({ inputShape: [28, 28, 1], patch: 2, drawsPerClass: 2, seed: 1, learningRate: 1e-3 });
  const x = images(1);
  const labels = [0, 1, 2, 3, 4, 5];
  const s = guide.sample(x, new Rng(1), true);
  const targets = syntheticMargins(x, labels, s);
  // The MSE by its definition, from a train-mode prediction before the step.
  const pred = guide.predict(x, true);
  const p = pred.dataSync();
  const cells = 27 * 27;
  let sum = 0;
  for (let n = 0; n < B; n++) {
    for (let d = 0; d < CLASSES * 2; d++) {
      const cell = s.picks[n * CLASSES * 2 + d]!;
      const slot = s.cellSlots[n * cells + cell]!;
      for (let j = 0; j < CLASSES; j++) sum += (p[(n * cells + cell) * CLASSES + j]! - targets[(n * s.width + slot) * CLASSES + j]!) ** 2;
    }
  }
  const want = sum / (B * CLASSES * 2 * CLASSES);
  const before = tf.memory().numTensors;
  const loss = guide.fit(x, s, targets);
  assert.is(tf.memory().numTensors, before, 'fit leaks no tensors');
  assert.ok(Math.abs(loss - want) < 1e-4 * Math.max(1, want), `${loss} vs ${want}`);
  const after = guide.predict(x, true);
  assert.not.equal(Array.from(after.dataSync()), Array.from(p), 'the step changed the U-Net');
  tf.dispose([x, pred, after]);
  guide.dispose();
});

guideSuite('should lower the loss over a few steps on a fixed batch', () => {
  const guide = new UNetGuide({ inputShape: [28, 28, 1], patch: 2, drawsPerClass: 1, seed: 2, learningRate: 3e-3 });
  const x = images(2);
  const labels = [0, 1, 2, 3, 4, 5];
  const rng = new Rng(2);
  const losses: number[] = [];
  for (let i = 0; i < 25; i++) {
    const s = guide.sample(x, rng, true);
    losses.push(guide.fit(x, s, syntheticMargins(x, labels, s)));
  }
  const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
  const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
  assert.ok(last < 0.8 * first, `loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
  x.dispose();
  guide.dispose();
});

guideSuite('[accumulateGradients] should feed Adam the summed gradients until startEpoch', () => {
  const make = (acc: boolean) => new UNetGuide({ inputShape: [28, 28, 1], patch: 2, seed: 3, learningRate: 1e-3, accumulateGradients: acc });
  const plain = make(false);
  const acc = make(true);
  const x = images(3);
  const labels = [0, 1, 2, 3, 4, 5];
  const s = plain.sample(x, new Rng(3), true);
  const t = syntheticMargins(x, labels, s);
  const w = (g: UNetGuide) => Array.from(g.unet.trainableVariables()[0]!.dataSync());
  plain.fit(x, s, t);
  acc.fit(x, s, t);
  assert.equal(w(acc), w(plain), 'first step identical');
  assert.ok(acc.getState().accumulated !== null);
  plain.fit(x, s, t);
  acc.fit(x, s, t);
  assert.not.equal(w(acc), w(plain), 'second step sees g1 + g2');
  acc.startEpoch();
  assert.is(acc.getState().accumulated, null);
  x.dispose();
  plain.dispose();
  acc.dispose();
});

guideSuite('should resume from getState: identical predictions and identical next step', () => {
  const a = new UNetGuide({ inputShape: [28, 28, 1], patch: 2, seed: 4, learningRate: 1e-3, accumulateGradients: true });
  const x = images(4);
  const labels = [0, 1, 2, 3, 4, 5];
  const s0 = a.sample(x, new Rng(4), true);
  a.fit(x, s0, syntheticMargins(x, labels, s0));
  const state = JSON.parse(JSON.stringify(a.getState()));
  const b = UNetGuide.fromState(state);
  const pa = a.predict(x);
  const pb = b.predict(x);
  assert.equal(Array.from(pb.dataSync()), Array.from(pa.dataSync()));
  const sa = a.sample(x, new Rng(5), true);
  const sb = b.sample(x, new Rng(5), true);
  assert.equal(Array.from(sb.locations), Array.from(sa.locations));
  const la = a.fit(x, sa, syntheticMargins(x, labels, sa));
  const lb = b.fit(x, sb, syntheticMargins(x, labels, sb));
  assert.is(lb, la);
  assert.equal(Array.from(b.predict(x).dataSync()), Array.from(a.predict(x).dataSync()));
  tf.dispose([x, pa, pb]);
  a.dispose();
  b.dispose();
});

guideSuite('[fitLoss] should have the gradient of the MSE written with plain tfjs ops', () => {
  const guide = new UNetGuide({ inputShape: [28, 28, 1], patch: 2, drawsPerClass: 2, seed: 7 });
  const x = images(7);
  const s = guide.sample(x, new Rng(7), true);
  const targets = syntheticMargins(x, [1, 2, 3, 4, 5, 6], s);
  const p = guide.predict(x, true);
  const cells = 27 * 27;
  // Plain: gather every draw's row of the prediction and its target, mean of squares.
  const rows: number[] = [];
  const t: number[] = [];
  for (let n = 0; n < B; n++) {
    for (let d = 0; d < CLASSES * 2; d++) {
      const cell = s.picks[n * CLASSES * 2 + d]!;
      rows.push(n * cells + cell);
      t.push(...Array.from(targets.subarray((n * s.width + s.cellSlots[n * cells + cell]!) * CLASSES, (n * s.width + s.cellSlots[n * cells + cell]! + 1) * CLASSES)));
    }
  }
  const plain = (q: tf.Tensor) => tf.mean(tf.square(tf.sub(tf.gather(tf.reshape(q, [B * cells, CLASSES]), rows), tf.tensor2d(t, [rows.length, CLASSES]))));
  const [gFast, gPlain] = [tf.grad((q: tf.Tensor) => guide.fitLoss(q as tf.Tensor4D, s, targets))(p), tf.grad(plain)(p)];
  const lFast = tf.tidy(() => guide.fitLoss(p, s, targets).dataSync()[0]!);
  const lPlain = tf.tidy(() => plain(p).dataSync()[0]!);
  assert.ok(Math.abs(lFast - lPlain) <= 1e-5 * lPlain, `loss ${lFast} vs ${lPlain}`);
  const a = gFast.dataSync();
  const b = gPlain.dataSync();
  const scale = Math.max(...Array.from(b, Math.abs));
  assert.ok(scale > 0);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 * scale, `gradient entry ${i}: ${a[i]} vs ${b[i]}`);
  tf.dispose([x, p, gFast, gPlain]);
  guide.dispose();
});

guideSuite('[sampleAndFit] should draw, fit and update exactly as sample then fit, from one forward pass', () => {
  for (const accumulateGradients of [false, true]) {
    const make = () => new UNetGuide({ inputShape: [28, 28, 1], patch: 2, drawsPerClass: 2, seed: 6, learningRate: 1e-3, accumulateGradients });
    const [a, b] = [make(), make()];
    const x = images(6);
    const labels = [5, 4, 3, 2, 1, 0];
    for (let step = 0; step < 2; step++) {
      const sa = a.sample(x, new Rng(10 + step), true);
      const la = a.fit(x, sa, syntheticMargins(x, labels, sa));
      let calls = 0;
      const { sample: sb, loss: lb } = b.sampleAndFit(x, new Rng(10 + step), (s) => {
        calls++;
        return syntheticMargins(x, labels, s);
      });
      assert.is(calls, 1);
      assert.equal(Array.from(sb.picks), Array.from(sa.picks));
      assert.equal(Array.from(sb.locations), Array.from(sa.locations));
      assert.ok(Math.abs(lb - la) <= 1e-6 * Math.abs(la), `loss ${lb} vs ${la}`);
    }
    // Weights, BatchNorm running statistics and Adam state all moved the same way.
    const sa = a.getState();
    const sb = b.getState();
    for (const [name, enc] of Object.entries(sa.unet)) assert.equal(sb.unet[name], enc, name);
    assert.equal(sb.adam, sa.adam);
    assert.equal(sb.accumulated, sa.accumulated);
    const before = tf.memory().numTensors;
    b.sampleAndFit(x, new Rng(3), (s) => syntheticMargins(x, labels, s));
    assert.is(tf.memory().numTensors, before, 'sampleAndFit leaks no tensors');
    x.dispose();
    a.dispose();
    b.dispose();
  }
});

guideSuite('should throw for a patch larger than the image and for margins of the wrong size', () => {
  throwsCode(() => new UNetGuide({ inputShape: [28, 28, 1], patch: 29 }), 'INVALID_OPTION');
  const g = new UNetGuide({ inputShape: [28, 28, 1], patch: 2 });
  const x = images(5);
  const s = g.sample(x, new Rng(1), false);
  throwsCode(() => g.fit(x, s, new Float32Array(3)), 'SHAPE_MISMATCH');
  throwsCode(() => g.sampleAndFit(x, new Rng(1), () => new Float32Array(3)), 'SHAPE_MISMATCH');
  const wrongGrid = tf.zeros([B, 26, 26, CLASSES]) as tf.Tensor4D;
  throwsCode(() => g.fitLoss(wrongGrid, s, new Float32Array(B * s.width * CLASSES)), 'SHAPE_MISMATCH');
  wrongGrid.dispose();
  throwsCode(() => g.setState({ format: 'nope' } as never), 'DATA_FORMAT');
  x.dispose();
  g.dispose();
});

guideSuite.run();
