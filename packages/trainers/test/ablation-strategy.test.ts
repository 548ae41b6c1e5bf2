import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend, isIdentityNormalization, Rng, tf } from '@patchcert/backend';
import { buildModel, loadModel } from '@patchcert/models';
import { datasetTensors, loadDataset } from '@patchcert/datasets';
import { ablationModeOf, certifyDerandomizedColumns } from '@patchcert/ablation';
import { train, parseTrainConfig, strategyRun, makeThreat, loadCheckpoint, IBP_RUN, type TrainConfigInput } from '@patchcert/trainers';
import { throwsCode, weights } from './helpers.js';

await initBackend('wasm');

const trainSet = await loadDataset('mnist', { split: 'train', limit: 1000 });
const testSet = await loadDataset('mnist', { split: 'test', limit: 200 });
const datasets = { train: trainSet, test: testSet };
const tmp = (): string => mkdtempSync(join(tmpdir(), 'pc-ablation-'));

const COLUMN: TrainConfigInput = {
  dataset: 'mnist',
  architecture: 'mlp',
  hidden: [128],
  threat: { type: 'patch', size: 2 },
  strategy: { type: 'ablation-column', bandWidth: 4 },
  epochs: 3,
  batchSize: 50,
  lr: 3e-3,
  schedule: { start: 1, length: 2 },
  seed: 3,
  eval: { epochLimit: 100, finalLimit: 200, batchSize: 100 },
};

const schema = suite('parseTrainConfig');

schema('[ablation] should accept column and block smoothing with a patch threat and random ablation with a sparse one', () => {
  assert.equal(parseTrainConfig(COLUMN, 'c.json').strategy, { type: 'ablation-column', bandWidth: 4 });
  assert.equal(parseTrainConfig({ ...COLUMN, strategy: { type: 'ablation-block', bandWidth: 28 } }, 'b.json').strategy, { type: 'ablation-block', bandWidth: 28 });
  const r = parseTrainConfig({ ...COLUMN, threat: { type: 'sparse', k: 4 }, strategy: { type: 'ablation-random', kKeep: 45, n: 500, alpha: 0.01 } }, 'r.json');
  assert.equal(r.strategy, { type: 'ablation-random', kKeep: 45, n: 500, alpha: 0.01 });
  // A folder dataset has no known size: the band is checked against its images when training.
  assert.is(parseTrainConfig({ ...COLUMN, dataset: 'folder:/x', strategy: { type: 'ablation-column', bandWidth: 100 } }, 'f.json').strategy.type, 'ablation-column');
});

schema('[ablation] should throw CONFIG_INVALID naming the field for mismatched threats and out-of-range sizes', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ strategy: { type: 'ablation-random', kKeep: 45 } }, /field 'threat\.type' must be 'sparse' for strategy 'ablation-random'/],
    [{ threat: { type: 'sparse', k: 4 } }, /field 'threat\.type' must be 'patch'.*'ablation-column'/],
    [{ threat: { type: 'rectangle', height: 2, width: 3 } }, /field 'threat\.type' must be 'patch'/],
    [{ strategy: { type: 'ablation-column', bandWidth: 0 } }, /field 'strategy\.bandWidth' must be >= 1, but got 0/],
    [{ strategy: { type: 'ablation-column', bandWidth: 29 } }, /field 'strategy\.bandWidth' must be <= 28 .*but got 29/],
    [{ dataset: 'cifar10', strategy: { type: 'ablation-block', bandWidth: 33 } }, /field 'strategy\.bandWidth' must be <= 32/],
    [{ threat: { type: 'sparse', k: 4 }, strategy: { type: 'ablation-random', kKeep: 785 } }, /field 'strategy\.kKeep' must be <= 784/],
    [{ threat: { type: 'sparse', k: 4 }, strategy: { type: 'ablation-random', kKeep: 45, alpha: 1 } }, /field 'strategy\.alpha' must be < 1/],
    [{ strategy: { type: 'ablation-column', bandWidth: 4, kKeep: 45 } }, /'strategy' must not have the field\(s\) 'kKeep'/],
  ];
  for (const [patch, message] of cases) {
    const e = await throwsCode(() => parseTrainConfig({ ...COLUMN, ...patch }, 'x.json'), 'CONFIG_INVALID');
    assert.match(e.message, message);
  }
});

schema.run();

// ---

const runs = suite('strategyRun');

runs('[ablation] should build the model for the doubled channels with identity normalization and skip the warm-up', () => {
  const run = strategyRun(parseTrainConfig(COLUMN, 'c.json'));
  const input = run.modelInput(trainSet);
  assert.equal(input.inputShape, [28, 28, 2]);
  assert.ok(isIdentityNormalization(input.normalization) && input.normalization.mean.length === 2);
  assert.not.ok(run.warmup);
  assert.equal(run.metadata, { ablation: { mode: 'column', bandWidth: 4 } });
  assert.is(strategyRun(parseTrainConfig({ ...COLUMN, strategy: { type: 'random', k: 2 } }, 'i.json')), IBP_RUN);
});

runs('[ablation] should throw CONFIG_INVALID when the band does not fit a folder dataset\'s images', async () => {
  const run = strategyRun(parseTrainConfig({ ...COLUMN, dataset: 'folder:/x', strategy: { type: 'ablation-column', bandWidth: 40 } }, 'f.json'));
  await throwsCode(() => run.modelInput(trainSet), 'CONFIG_INVALID');
});

runs('[ablation] should count a training image correct exactly when the argmax of its logits is the label', () => {
  const run = strategyRun(parseTrainConfig(COLUMN, 'c.json'));
  const rng = new Rng(5);
  const logits = tf.tensor2d(Array.from({ length: 64 * 10 }, () => rng.normal()), [64, 10]);
  const labels = tf.tensor1d(Array.from({ length: 64 }, () => rng.int(10)), 'int32');
  const margins = tf.sub(tf.sum(tf.mul(logits, tf.oneHot(labels, 10)), 1, true), logits) as tf.Tensor2D;
  const correct = run.trainCorrect({ model: undefined as never, images: undefined as never, labels, eps: 0, rng, training: true }, margins);
  const expected = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
  assert.is(correct.dataSync()[0], expected.dataSync()[0]);
  assert.ok(expected.dataSync()[0]! > 0 && expected.dataSync()[0]! < 64, 'both outcomes occur');
  tf.dispose([logits, labels, margins, correct, expected]);
});

runs.run();

// ---

const trainSuite = suite('train');

trainSuite('[ablation-column] should certify more 2x2 patches (derandomized) than the untrained model and save a model that reports its mode', async () => {
  const config = parseTrainConfig(COLUMN, 'test');
  const { x, y } = datasetTensors(testSet);
  const untrained = buildModel('mlp', { inputShape: [28, 28, 2], numClasses: 10, hidden: [128], seed: 3 });
  const before = certifyDerandomizedColumns(untrained, x, y, { bandWidth: 4, patchSizes: [2] });
  const certifiedBefore = before.certified[0]!.reduce((a, b) => a + b, 0) / testSet.count;
  untrained.dispose();
  const out = tmp();
  const tensorsBefore = tf.memory().numTensors;
  const r = await train(config, { out, datasets });
  assert.is(tf.memory().numTensors, tensorsBefore, 'no tensors leaked');
  assert.ok(r.final, 'final evaluation ran');
  assert.ok(r.final!.certifiedAccuracy > certifiedBefore + 0.1, `certified ${r.final!.certifiedAccuracy} vs untrained ${certifiedBefore}`);
  assert.ok(r.final!.cleanAccuracy >= r.final!.certifiedAccuracy);

  const model = await loadModel(join(out, 'model'));
  assert.equal(ablationModeOf(model), { mode: 'column', bandWidth: 4 });
  assert.equal([...model.inputShape], [28, 28, 2]);
  // The trainer's figure is the derandomized certificate of the saved model.
  const after = certifyDerandomizedColumns(model, x, y, { bandWidth: 4, patchSizes: [2] });
  assert.is(r.final!.certifiedAccuracy, after.certified[0]!.reduce((a, b) => a + b, 0) / testSet.count);
  assert.is(r.final!.cleanAccuracy, after.correct.reduce((a, b) => a + b, 0) / testSet.count);
  model.dispose();
  tf.dispose([x, y]);

  const ck = await loadCheckpoint(out);
  assert.equal(ablationModeOf(ck.model), { mode: 'column', bandWidth: 4 }, 'the checkpoint records the mode too');
  ck.model.dispose();
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.map((m) => m.natural), [false, false, false], 'no natural warm-up epoch');
  assert.ok(rows.every((m) => m.trainAccuracy > 0.1 && m.trainAccuracy <= 1 && m.certifiedAccuracy !== null), JSON.stringify(rows.map((m) => m.trainAccuracy)));
});

trainSuite('[ablation-column] should resume after an interruption mid-epoch to the same weights as an uninterrupted run', async () => {
  const config = parseTrainConfig({ ...COLUMN, epochs: 3, data: { trainLimit: 256 }, eval: { epochLimit: 0 } }, 'test');
  const small = { train: { ...trainSet, count: 256, images: trainSet.images.subarray(0, 256 * 784), labels: trainSet.labels.subarray(0, 256) }, test: testSet };
  const a = tmp();
  await train(config, { out: a, datasets: small, finalEval: false });
  const b = tmp();
  const controller = new AbortController();
  const first = await train(config, {
    out: b,
    datasets: small,
    finalEval: false,
    signal: controller.signal,
    onEvent: (e) => e.type === 'batch' && e.epoch === 1 && e.batch === 1 && controller.abort(),
  });
  assert.ok(first.interrupted);
  assert.is(first.history.length, 1, 'only epoch 0 completed');
  await train(config, { out: b, datasets: small, finalEval: false, resume: true });
  assert.equal(await weights(join(b, 'model')), await weights(join(a, 'model')));
});

trainSuite('[ablation-block] should train and certify by the block vote (H·W bands) what certifyDerandomizedColumns gives the saved model', async () => {
  const config = parseTrainConfig({ ...COLUMN, strategy: { type: 'ablation-block', bandWidth: 6 }, epochs: 1, data: { trainLimit: 256 }, eval: { epochLimit: 0, finalLimit: 6, batchSize: 4 } }, 'test');
  const small = { train: { ...trainSet, count: 256, images: trainSet.images.subarray(0, 256 * 784), labels: trainSet.labels.subarray(0, 256) }, test: testSet };
  const out = tmp();
  const r = await train(config, { out, datasets: small });
  const model = await loadModel(join(out, 'model'));
  assert.equal(ablationModeOf(model), { mode: 'block', bandWidth: 6 });
  const { x, y } = datasetTensors(testSet, Int32Array.from({ length: 6 }, (_, i) => i));
  const direct = certifyDerandomizedColumns(model, x, y, { bandWidth: 6, kind: 'block', patchSizes: [2] });
  model.dispose();
  tf.dispose([x, y]);
  assert.is(direct.bands, 784);
  assert.is(r.final!.cleanAccuracy, direct.correct.reduce((a, b) => a + b, 0) / 6);
  assert.is(r.final!.certifiedAccuracy, direct.certified[0]!.reduce((a, b) => a + b, 0) / 6);
});

trainSuite('[ablation-random] should train and certify k changed pixels by random ablation independently of the evaluation batch size', async () => {
  const config = parseTrainConfig(
    { ...COLUMN, threat: { type: 'sparse', k: 1 }, strategy: { type: 'ablation-random', kKeep: 45, n0: 10, n: 60 }, epochs: 1, data: { trainLimit: 256 }, eval: { epochLimit: 0, finalLimit: 12, batchSize: 12 } },
    'test',
  );
  const small = { train: { ...trainSet, count: 256, images: trainSet.images.subarray(0, 256 * 784), labels: trainSet.labels.subarray(0, 256) }, test: testSet };
  const out = tmp();
  const r = await train(config, { out, datasets: small });
  assert.ok(r.final && r.final.images === 12);
  assert.ok(r.final!.cleanAccuracy >= r.final!.certifiedAccuracy);
  const model = await loadModel(join(out, 'model'));
  assert.equal(ablationModeOf(model), { mode: 'random-ablation', kKeep: 45 });
  const run = strategyRun(config);
  const threat = makeThreat(config.threat);
  const whole = await run.evaluate(model, testSet, threat, { limit: 12, batchSize: 12 });
  const split = await run.evaluate(model, testSet, threat, { limit: 12, batchSize: 5 });
  model.dispose();
  assert.equal([whole.cleanAccuracy, whole.certifiedAccuracy], [r.final!.cleanAccuracy, r.final!.certifiedAccuracy]);
  assert.equal([split.cleanAccuracy, split.certifiedAccuracy], [whole.cleanAccuracy, whole.certifiedAccuracy]);
});

trainSuite.run();
