import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, mkdirSync, renameSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { initBackend, tf, Rng } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import { Adam, saveCheckpoint, loadCheckpoint, findCheckpoint, parseTrainConfig } from '@patchcert/trainers';
import { throwsCode } from './helpers.js';

await initBackend('wasm');

const config = parseTrainConfig({ dataset: 'mnist', architecture: 'mlp', hidden: [8], threat: { type: 'patch', size: 2 }, strategy: { type: 'all' }, epochs: 3, lr: 1e-3, schedule: { start: 1, length: 2 } });

async function fixture(out: string, epoch: number): Promise<{ weights: number[][]; m: number[][] }> {
  const model = buildModel('mlp', { inputShape: [4, 4, 1], numClasses: 3, hidden: [8], seed: epoch });
  const adam = new Adam(model.trainableVariables());
  const grads = Object.fromEntries(model.trainableVariables().map((v) => [v.name, tf.onesLike(v)]));
  adam.step(grads, 0.01);
  tf.dispose(Object.values(grads));
  const rng = new Rng(epoch);
  rng.next();
  await saveCheckpoint(out, model, await adam.getState(), { epoch, config, rng: rng.getState(), strategy: { note: 'x' }, history: [], trainSeconds: 1.5 });
  const weights = model.trainableVariables().map((v) => Array.from(v.dataSync()));
  const m = (await adam.getState()).m.map((a) => Array.from(a));
  adam.dispose();
  model.dispose();
  return { weights, m };
}

const save = suite('saveCheckpoint');

save('should round-trip model, optimizer, generator and strategy state', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pc-ck-'));
  const { weights, m } = await fixture(out, 4);
  const ck = await loadCheckpoint(out);
  assert.is(ck.state.epoch, 4);
  assert.equal(ck.state.strategy, { note: 'x' });
  assert.is(ck.adam.step, 1);
  assert.equal(ck.adam.m.map((a) => Array.from(a)), m);
  assert.equal(ck.model.trainableVariables().map((v) => Array.from(v.dataSync())), weights);
  const r = new Rng(4);
  r.next();
  assert.equal(ck.state.rng, r.getState());
  ck.model.dispose();
});

save('should replace the previous checkpoint and leave no temporary directories', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pc-ck-'));
  await fixture(out, 1);
  await fixture(out, 2);
  assert.equal(readdirSync(out).sort(), ['checkpoint']);
  const ck = await loadCheckpoint(out);
  assert.is(ck.state.epoch, 2);
  ck.model.dispose();
});

save.run();

// ---

const find = suite('findCheckpoint');

find('should fall back to checkpoint.old when a kill hit between the two renames, and ignore a half-written temp dir', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pc-ck-'));
  await fixture(out, 3);
  renameSync(join(out, 'checkpoint'), join(out, 'checkpoint.old'));
  mkdirSync(join(out, 'checkpoint.tmp-999'));
  writeFileSync(join(out, 'checkpoint.tmp-999', 'state.json'), '{ half');
  assert.is(findCheckpoint(out), join(out, 'checkpoint.old'));
  const ck = await loadCheckpoint(out);
  assert.is(ck.state.epoch, 3);
  ck.model.dispose();
  await fixture(out, 4);
  assert.not.ok(existsSync(join(out, 'checkpoint.old')));
});

find('should be undefined for a directory without a checkpoint', () => {
  assert.is(findCheckpoint(mkdtempSync(join(tmpdir(), 'pc-ck-'))), undefined);
});

find.run();

// ---

const load = suite('loadCheckpoint');

load('should throw FILE_NOT_FOUND without a checkpoint and MODEL_FORMAT for a damaged one', async () => {
  const out = mkdtempSync(join(tmpdir(), 'pc-ck-'));
  await throwsCode(() => loadCheckpoint(out), 'FILE_NOT_FOUND');
  await fixture(out, 1);
  writeFileSync(join(out, 'checkpoint', 'optimizer.bin'), new Uint8Array(12));
  await throwsCode(() => loadCheckpoint(out), 'MODEL_FORMAT');
  writeFileSync(join(out, 'checkpoint', 'state.json'), 'not json');
  await throwsCode(() => loadCheckpoint(out), 'MODEL_FORMAT');
});

load.run();
