import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend, tf } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import { loadDataset } from '@patchcert/datasets';
import { train, parseTrainConfig, evaluateCertified, makeThreat, loadCheckpoint, type TrainConfigInput, type TrainEvent } from '@patchcert/trainers';
import { throwsCode, weights } from './helpers.js';

await initBackend('wasm');

const trainSet = await loadDataset('mnist', { split: 'train', limit: 512 });
const testSet = await loadDataset('mnist', { split: 'test', limit: 200 });
const datasets = { train: trainSet, test: testSet };
const tmp = (): string => mkdtempSync(join(tmpdir(), 'pc-train-'));

const BASE: TrainConfigInput = {
  dataset: 'mnist',
  architecture: 'mlp',
  hidden: [64],
  threat: { type: 'patch', size: 2 },
  strategy: { type: 'random', k: 5 },
  epochs: 5,
  batchSize: 64,
  lr: 2e-3,
  schedule: { start: 1, length: 2 },
  seed: 7,
  eval: { epochLimit: 100, finalLimit: 200, batchSize: 100 },
};

const trainSuite = suite('train');

trainSuite('should raise certified accuracy above the untrained model\'s and write metrics, checkpoint and model', async () => {
  const config = parseTrainConfig(BASE, 'test');
  const untrained = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, hidden: [64], seed: 7 });
  const before = await evaluateCertified(untrained, testSet, makeThreat(config.threat), { limit: 200 });
  untrained.dispose();
  const out = tmp();
  const events: TrainEvent['type'][] = [];
  const tensorsBefore = tf.memory().numTensors;
  const r = await train(config, { out, datasets, onEvent: (e) => events.push(e.type) });
  assert.is(tf.memory().numTensors, tensorsBefore, 'no tensors leaked');
  assert.ok(r.final, 'final evaluation ran');
  assert.ok(r.final!.certifiedAccuracy > before.certifiedAccuracy + 0.2, `certified ${r.final!.certifiedAccuracy} vs untrained ${before.certifiedAccuracy}`);
  assert.ok(r.final!.cleanAccuracy >= r.final!.certifiedAccuracy);
  const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.is(rows.length, 5);
  assert.equal(rows.map((m) => m.natural), [true, false, false, false, false]);
  assert.equal(rows.map((m) => m.epsEnd), [0, 1, 1, 1, 1]);
  // 512 images in batches of 64: linspace(start, end, 9) over 8 batches stops one step short (Q21).
  assert.equal(rows.map((m) => m.epsLastBatch), [0, 0.875, 1, 1, 1]);
  assert.ok(rows.every((m) => m.certifiedAccuracy !== null && m.evalImages === 100));
  assert.ok(rows.every((m) => m.trainCpuSeconds > 0 && Math.abs(m.imagesPerCpuSecond * m.trainCpuSeconds - 512) < 1e-6), 'CPU seconds and images per CPU-second');
  assert.ok(existsSync(join(out, 'model', 'model.json')));
  assert.ok(existsSync(join(out, 'summary.json')));
  assert.is(events[0], 'start');
  assert.is(events[events.length - 1], 'done');
  assert.ok(events.includes('checkpoint') && events.includes('final'));
  const ck = await loadCheckpoint(out);
  assert.is(ck.state.epoch, 4);
  assert.is(ck.adam.step, 5 * 8);
  ck.model.dispose();
});

trainSuite('should resume after an interruption mid-epoch to the same weights as an uninterrupted run', async () => {
  const config = parseTrainConfig({ ...BASE, epochs: 3, data: { trainLimit: 256 }, eval: { epochLimit: 0 } }, 'test');
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
    onEvent: (e) => {
      if (e.type === 'batch' && e.epoch === 1 && e.batch === 1) controller.abort();
    },
  });
  assert.ok(first.interrupted);
  assert.is(first.history.length, 1, 'only epoch 0 completed');
  assert.not.ok(existsSync(join(b, 'model')), 'no final model after an interruption');
  const resumed = await train(config, { out: b, datasets: small, finalEval: false, resume: true });
  assert.not.ok(resumed.interrupted);
  assert.is(resumed.history.length, 3);
  assert.equal(await weights(join(b, 'model')), await weights(join(a, 'model')));
  const rows = readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.is(rows.length, 3);
});

trainSuite('[guided] should resume with the U-Net state to the same weights', async () => {
  const config = parseTrainConfig({ ...BASE, hidden: [32], strategy: { type: 'guided', k: 10 }, epochs: 3, data: { trainLimit: 256 }, eval: { epochLimit: 0 } }, 'test');
  const small = { train: { ...trainSet, count: 256, images: trainSet.images.subarray(0, 256 * 784), labels: trainSet.labels.subarray(0, 256) }, test: testSet };
  const a = tmp();
  await train(config, { out: a, datasets: small, finalEval: false });
  const b = tmp();
  const controller = new AbortController();
  await train(config, { out: b, datasets: small, finalEval: false, signal: controller.signal, onEvent: (e) => e.type === 'batch' && e.epoch === 2 && e.batch === 1 && controller.abort() });
  const ck = await loadCheckpoint(b);
  assert.ok(ck.state.strategy, 'the strategy state is in the checkpoint');
  ck.model.dispose();
  await train(config, { out: b, datasets: small, finalEval: false, resume: true });
  assert.equal(await weights(join(b, 'model')), await weights(join(a, 'model')));
});

trainSuite('should throw CONFIG_INVALID when resuming with another config', async () => {
  const config = parseTrainConfig({ ...BASE, epochs: 1, data: { trainLimit: 128 }, eval: { epochLimit: 0 } }, 'test');
  const small = { train: { ...trainSet, count: 128, images: trainSet.images.subarray(0, 128 * 784), labels: trainSet.labels.subarray(0, 128) }, test: testSet };
  const out = tmp();
  await train(config, { out, datasets: small, finalEval: false });
  const other = parseTrainConfig({ ...BASE, epochs: 2, lr: 1e-2, data: { trainLimit: 128 }, eval: { epochLimit: 0 } }, 'test');
  await throwsCode(() => train(other, { out, datasets: small, finalEval: false, resume: true }), 'CONFIG_INVALID');
  // More epochs with the same settings is a valid continuation.
  const more = parseTrainConfig({ ...BASE, epochs: 2, data: { trainLimit: 128 }, eval: { epochLimit: 0 } }, 'test');
  const r = await train(more, { out, datasets: small, finalEval: false, resume: true });
  assert.is(r.history.length, 2);
});

trainSuite.run();
