import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tf, Rng } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { squarePatch, locationMargins } from '@patchcert/bounds';
import { guidedPatches, type GuidedPatchStrategy } from '@patchcert/unet-guide';
import { initTrainingBackend, pearson } from './___helpers.js';

// Does the U-Net learn the margin map? A fixed MLP whose first layer is weighted towards the
// image centre (as trained MNIST models are) gives margin maps with real spatial structure;
// images are random thick strokes, labels the model's own predictions (so the U-Net can infer
// them from the image). The U-Net is trained only through guided(10) on 64 images, then its
// eval-mode predictions are compared with the true bounds at all 729 locations.

const THREAT = squarePatch(2);
const LOCS = 27 * 27;

function strokeImages(n: number, rng: Rng): tf.Tensor4D {
  const out = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) {
    const count = 2 + rng.int(3);
    for (let s = 0; s < count; s++) {
      let r = 6 + rng.uniform(0, 16);
      let c = 6 + rng.uniform(0, 16);
      const angle = rng.uniform(0, 2 * Math.PI);
      const len = 6 + rng.int(10);
      for (let u = 0; u < len; u++) {
        for (let dr = -1; dr <= 1; dr++) {
          for (let dc = -1; dc <= 1; dc++) {
            const rr = Math.round(r) + dr;
            const cc = Math.round(c) + dc;
            const at = i * 784 + rr * 28 + cc;
            if (rr >= 0 && rr < 28 && cc >= 0 && cc < 28) out[at] = Math.max(out[at]!, dr === 0 && dc === 0 ? 1 : 0.6);
          }
        }
        r += Math.sin(angle);
        c += Math.cos(angle);
      }
    }
  }
  return tf.tensor4d(out, [n, 28, 28, 1]);
}

function centreWeightedMlp(): SequentialModel {
  const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, hidden: [64], seed: 2 });
  const env = new Float32Array(784).map((_, i) => {
    const r = Math.floor(i / 28) - 13.5;
    const c = (i % 28) - 13.5;
    return 10 * Math.exp(-(r * r + c * c) / 72);
  });
  const first = model.weights.find((w) => w !== null)!;
  tf.tidy(() => first.kernel.assign(tf.mul(first.kernel, tf.tensor2d(env, [784, 1]))));
  return model;
}

/** Pearson over all (image, location, class ≠ y), and the mean per-(image, class) map correlation. */
function correlations(model: SequentialModel, s: GuidedPatchStrategy, x: tf.Tensor4D, y: tf.Tensor1D): { overall: number; perMap: number } {
  const n = x.shape[0];
  const all = new Int32Array(n * LOCS).map((_, i) => i % LOCS);
  const truth = tf.tidy(() => locationMargins(model, x, y, THREAT, { locations: all, eps: 1 }).dataSync());
  const pred = tf.tidy(() => s.guide!.predict(x, false).dataSync());
  const labels = y.dataSync();
  const a: number[] = [];
  const p: number[] = [];
  let perMap = 0;
  let maps = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 10; j++) {
      if (j === labels[i]) continue;
      const ta: number[] = [];
      const pa: number[] = [];
      for (let q = 0; q < LOCS; q++) {
        ta.push(truth[(i * LOCS + q) * 10 + j]!);
        pa.push(pred[(i * LOCS + q) * 10 + j]!);
      }
      a.push(...ta);
      p.push(...pa);
      perMap += pearson(ta, pa);
      maps++;
    }
  }
  return { overall: pearson(a, p), perMap: perMap / maps };
}

const corr = suite('guidedPatches (U-Net fit)');

corr('should predict margins that correlate with the true IBP bounds after short guided training', async () => {
  await initTrainingBackend();
  const rng = new Rng(11);
  const model = centreWeightedMlp();
  const [x, xHeld] = [strokeImages(64, rng), strokeImages(16, rng)];
  const label = (t: tf.Tensor4D) => tf.tidy(() => tf.cast(tf.argMax(model.predict(t), 1), 'int32')) as tf.Tensor1D;
  const [y, yHeld] = [label(x), label(xHeld)];
  const s = guidedPatches({ k: 10, threat: THREAT, seed: 3, learningRate: 5e-3 });
  const bs = 16;
  // An evaluation batch builds the U-Net and changes nothing: the untrained correlation.
  tf.dispose(s.margins({ model, images: xHeld, labels: yHeld, eps: 1, rng: new Rng(0), training: false }));
  const before = correlations(model, s, xHeld, yHeld);
  for (let epoch = 0; epoch < 25; epoch++) {
    for (let b = 0; b < 64; b += bs) {
      const [xb, yb] = tf.tidy(() => [tf.slice(x, [b, 0, 0, 0], [bs, -1, -1, -1]) as tf.Tensor4D, tf.slice(y, [b], [bs]) as tf.Tensor1D]);
      const ctx = { model, images: xb, labels: yb, eps: 1, rng, training: true };
      tf.dispose(s.margins(ctx)); // a training batch fits the U-Net too
      tf.dispose([xb, yb]);
    }
  }
  const held = correlations(model, s, xHeld, yHeld);
  console.log(`  held-out Pearson: overall ${before.overall.toFixed(3)} → ${held.overall.toFixed(3)}, per map ${before.perMap.toFixed(3)} → ${held.perMap.toFixed(3)} (U-Net MSE ${s.lastUNetLoss.toFixed(4)})`);
  assert.ok(held.overall > 0.5, `overall Pearson ${held.overall}`);
  assert.ok(held.perMap > 0.7, `per-map Pearson ${held.perMap}`);
  assert.ok(held.perMap > before.perMap + 0.3, 'training, not the architecture, made the maps match');
  tf.dispose([x, xHeld, y, yHeld]);
  s.dispose();
  model.dispose();
});

corr.run();
