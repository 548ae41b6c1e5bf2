import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, Rng, tf } from '@patchcert/backend';
import { datasetTensors, loadDataset, type ImageDataset } from '@patchcert/datasets';
import { buildModel, loadModel, saveModel, type SequentialModel } from '@patchcert/models';
import { patchAttack } from '@patchcert/attacks';
import {
  certifyDerandomizedColumns,
  certifyRandomAblation,
  DEFAULT_ABLATION_TRAIN,
  encodeAblated,
  identityPermutation,
  sampleTrainingMasks,
  softVoteLogits,
  trainAblationClassifier,
  ablationMargins,
  ablationModeOf,
  type AblationMode,
} from '@patchcert/ablation';
import { throwsCode } from './helpers.js';

const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

/** Accuracy of the base classifier on test images with one fresh ablation each. */
function ablatedAccuracy(model: SequentialModel, x: tf.Tensor4D, y: tf.Tensor1D, mode: AblationMode, seed: number): number {
  const [n, h, w] = x.shape;
  const masks = new Float32Array(n * h * w);
  sampleTrainingMasks(mode, new Rng(seed), masks, n, h, w, identityPermutation(h * w));
  return tf.tidy(() => {
    const pred = tf.argMax(model.predict(encodeAblated(x, tf.tensor4d(masks, [n, h, w, 1]))), 1);
    return mean(tf.cast(tf.equal(pred, y), 'float32').dataSync());
  });
}

interface Ctx {
  train: ImageDataset;
  test: ImageDataset;
}

const training = suite<Ctx>('trainAblationClassifier', {} as Ctx);

training.before(async (ctx) => {
  await initBackend('wasm');
  ctx.train = await loadDataset('mnist', { split: 'train', limit: 2000 });
  ctx.test = await loadDataset('mnist', { split: 'test', limit: 200 });
});

training('[column s=4] should train a base classifier well above chance whose smoothed classifier certifies some 2×2 patches, and resist a patch attack there', async (ctx) => {
  const model = buildModel('mlp', { inputShape: [28, 28, 2], numClasses: 10, seed: 0 });
  const mode: AblationMode = { mode: 'column', bandWidth: 4 };
  const r = await trainAblationClassifier(model, ctx.train, mode, { epochs: 3, batchSize: 64, lr: 0.005, seed: 1 });
  assert.is(r.epochs.length, 3);
  assert.ok(r.epochs[2]!.loss < r.epochs[0]!.loss, 'loss falls');
  const { x, y } = datasetTensors(ctx.test);
  const base = ablatedAccuracy(model, x, y, mode, 2);
  assert.ok(base > 0.3, `base accuracy on ablated inputs ${base} (chance 0.1)`);
  const c = certifyDerandomizedColumns(model, x, y, { bandWidth: 4, patchSizes: [2, 5] });
  assert.ok(mean(c.correct) > 0.5, `smoothed clean accuracy ${mean(c.correct)}`);
  assert.ok(mean(c.certified[0]!) > 0, `certified 2×2 ${mean(c.certified[0]!)}`);
  assert.ok(mean(c.certified[1]!) <= mean(c.certified[0]!), 'a larger patch certifies no more');

  // "No certified image is broken": attack a few certified images through the soft-vote surrogate
  // (hard votes have no gradient), then judge the hard smoothed classifier on the result.
  const picked = Array.from(c.certified[0]!).flatMap((v, i) => (v === 1 ? [i] : [])).slice(0, 3);
  const xs = tf.gather(x, picked) as tf.Tensor4D;
  const ys = tf.gather(y, picked) as tf.Tensor1D;
  const surrogate = { predict: (p: tf.Tensor4D) => softVoteLogits(model, p, { bandWidth: 4 }) };
  const attack = patchAttack(surrogate, xs, ys, { threat: 2, placement: 'random', restarts: 4, steps: 15, stepSize: 0.2, seed: 3, batchSize: 16 });
  const after = certifyDerandomizedColumns(model, attack.adversarial, ys, { bandWidth: 4, patchSizes: [2] });
  assert.equal(Array.from(after.predicted), picked.map((i) => c.predicted[i]!), 'certified predictions survive the attack');
  tf.dispose([x, y, xs, ys, attack.adversarial]);
  model.dispose();
});

training('[random-ablation kKeep=45] should train a base classifier above chance whose smoothed classifier certifies some k=1 images', async (ctx) => {
  const model = buildModel('mlp', { inputShape: [28, 28, 2], numClasses: 10, seed: 0 });
  const mode: AblationMode = { mode: 'random-ablation', kKeep: 45 };
  await trainAblationClassifier(model, ctx.train, mode, { epochs: 3, batchSize: 64, lr: 0.005, seed: 1 });
  const { x, y } = datasetTensors(ctx.test);
  const base = ablatedAccuracy(model, x, y, mode, 2);
  assert.ok(base > 0.25, `base accuracy on ablated inputs ${base} (chance 0.1)`);
  const x50 = tf.slice(x, [0, 0, 0, 0], [50, 28, 28, 1]);
  const r = certifyRandomAblation(model, x50, Array.from(y.dataSync()).slice(0, 50), { kKeep: 45, k: [1, 4], n0: 20, n: 200, alpha: 0.05, seed: 4 });
  assert.ok(mean(r.correct) > 0.2, `smoothed clean accuracy ${mean(r.correct)}`);
  assert.ok(mean(r.certified[0]!) > 0, `certified k=1 ${mean(r.certified[0]!)}`);
  tf.dispose([x, y, x50]);
  model.dispose();
});

training('should give the same weights for the same seed and report every step', async (ctx) => {
  const small = { ...ctx.train, images: ctx.train.images.subarray(0, 256 * 784), labels: ctx.train.labels.subarray(0, 256), count: 256 };
  const weights: Float32Array[] = [];
  let events = 0;
  for (let run = 0; run < 2; run++) {
    const model = buildModel('mlp', { inputShape: [28, 28, 2], numClasses: 10, hidden: [16], seed: 0 });
    await trainAblationClassifier(model, small, { mode: 'column', bandWidth: 3 }, {
      epochs: 2,
      batchSize: 100,
      seed: 7,
      onProgress: (p) => {
        if (run === 0) {
          events++;
          assert.is(p.batches, 3);
          assert.ok(Number.isFinite(p.loss));
        }
      },
    });
    weights.push(model.weights[1]!.kernel.dataSync() as Float32Array);
    model.dispose();
  }
  assert.is(events, 6);
  assert.equal(weights[0], weights[1]);
});

training('should write its defaults out in full', () => {
  assert.equal({ ...DEFAULT_ABLATION_TRAIN }, { epochs: 1, batchSize: 128, lr: 0.001, seed: 0 });
});

training('should throw SHAPE_MISMATCH for a model without the doubled channels and INVALID_OPTION for a bad mode', async (ctx) => {
  const plain = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, hidden: [4], seed: 0 });
  const model = buildModel('mlp', { inputShape: [28, 28, 2], numClasses: 10, hidden: [4], seed: 0 });
  const rejects = async (p: Promise<unknown>, code: string): Promise<void> => {
    let err: unknown;
    await p.catch((e: unknown) => (err = e));
    throwsCode(() => {
      if (err) throw err;
    }, code);
  };
  await rejects(trainAblationClassifier(plain, ctx.train, { mode: 'column', bandWidth: 4 }), 'SHAPE_MISMATCH');
  await rejects(trainAblationClassifier(model, ctx.train, { mode: 'column', bandWidth: 29 }), 'INVALID_OPTION');
  await rejects(trainAblationClassifier(model, ctx.train, { mode: 'random-ablation', kKeep: 0 }), 'INVALID_OPTION');
  await rejects(trainAblationClassifier(model, ctx.train, { mode: 'rows' } as unknown as AblationMode), 'INVALID_OPTION');
  plain.dispose();
  model.dispose();
});

training.run();

// ---

const masks = suite('sampleTrainingMasks');

masks('should draw one wrapped column band of width s per image, and kKeep pixels for random ablation', () => {
  const h = 4;
  const w = 6;
  const out = new Float32Array(50 * h * w);
  sampleTrainingMasks({ mode: 'column', bandWidth: 2 }, new Rng(1), out, 50, h, w, identityPermutation(h * w));
  const starts = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const cols = Array.from({ length: w }, (_, c) => out[i * h * w + c]!);
    const kept = cols.flatMap((v, c) => (v === 1 ? [c] : []));
    assert.is(kept.length, 2);
    const start = kept[1] === kept[0]! + 1 ? kept[0]! : kept[1]!; // wrapped band {5, 0} starts at 5
    assert.is(out.slice(i * h * w, (i + 1) * h * w).reduce((s, v) => s + v, 0), 2 * h, 'full-height columns');
    starts.add(start);
  }
  assert.is(starts.size, w, 'every start drawn');
  sampleTrainingMasks({ mode: 'random-ablation', kKeep: 5 }, new Rng(1), out, 50, h, w, identityPermutation(h * w));
  for (let i = 0; i < 50; i++) assert.is(out.slice(i * h * w, (i + 1) * h * w).reduce((s, v) => s + v, 0), 5);
  sampleTrainingMasks({ mode: 'block', bandWidth: 3 }, new Rng(1), out, 50, h, w, identityPermutation(h * w));
  for (let i = 0; i < 50; i++) assert.is(out.slice(i * h * w, (i + 1) * h * w).reduce((s, v) => s + v, 0), 9);
});

masks.run();

// ---

const margins = suite('ablationMargins');

margins.before(async () => {
  await initBackend('wasm');
});

margins('should be z_y − z on the same ablations the trainer draws, so CE(−m, y) equals cross-entropy on the ablated images', () => {
  const model = buildModel('mlp', { inputShape: [6, 6, 2], numClasses: 4, hidden: [8], seed: 2 });
  const x = tf.randomUniform([5, 6, 6, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const y = tf.tensor1d([0, 1, 2, 3, 1], 'int32');
  const mode: AblationMode = { mode: 'column', bandWidth: 2 };
  const m = ablationMargins(model, x, y, mode, new Rng(4));
  const masks = new Float32Array(5 * 36);
  sampleTrainingMasks(mode, new Rng(4), masks, 5, 6, 6, identityPermutation(36));
  const logits = model.predict(encodeAblated(x, tf.tensor4d(masks, [5, 6, 6, 1])));
  const ceMargins = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 4), tf.neg(m)).dataSync()[0]!;
  const ce = tf.losses.softmaxCrossEntropy(tf.oneHot(y, 4), logits).dataSync()[0]!;
  assert.ok(Math.abs(ceMargins - ce) < 1e-5, `${ceMargins} vs ${ce}`);
  const md = m.arraySync() as number[][];
  [0, 1, 2, 3, 1].forEach((label, i) => assert.is(md[i]![label], 0));
  tf.dispose([x, y, m, logits]);
  model.dispose();
});

margins.run();

// ---

const modeOf = suite('ablationModeOf');

modeOf.before(async () => {
  await initBackend('wasm');
});

modeOf('should read back the mode training recorded, through saveModel/loadModel, and null for a model without one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ablation-mode-'));
  try {
    const ds = await loadDataset('mnist', { split: 'test', limit: 20 });
    const model = buildModel('mlp', { inputShape: [28, 28, 2], numClasses: 10, hidden: [4], seed: 0, dataset: 'mnist' });
    assert.is(ablationModeOf(model), null);
    await trainAblationClassifier(model, ds, { mode: 'column', bandWidth: 4 }, { epochs: 1, batchSize: 10 });
    assert.equal(ablationModeOf(model), { mode: 'column', bandWidth: 4 });
    assert.is(model.metadata.training?.strategy, 'ablation:column');
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    assert.equal(ablationModeOf(loaded), { mode: 'column', bandWidth: 4 });
    loaded.metadata.training = { ablation: { mode: 'column', bandWidth: 40 } };
    throwsCode(() => ablationModeOf(loaded), 'MODEL_FORMAT');
    model.dispose();
    loaded.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

modeOf.run();
