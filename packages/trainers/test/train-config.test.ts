import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseTrainConfig, loadTrainConfig, describeThreat, type TrainConfigInput } from '@patchcert/trainers';
import { throwsCode } from './helpers.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const GOOD: TrainConfigInput = {
  dataset: 'mnist',
  architecture: 'mlp',
  threat: { type: 'patch', size: 2 },
  strategy: { type: 'random', k: 10 },
  epochs: 100,
  lr: 5e-4,
  schedule: { start: 1, length: 61 },
};
const withField = (patch: Record<string, unknown>): unknown => ({ ...GOOD, ...patch });

const parse = suite('parseTrainConfig');

parse('should fill in the reference defaults', () => {
  const c = parseTrainConfig(GOOD, 'good.json');
  assert.is(c.batchSize, 256);
  assert.is(c.seed, 2019);
  assert.equal(c.lrDecay, { step: 10, factor: 0.5 });
  assert.is(c.augment, false);
  assert.is(c.eval.epochLimit, 1000);
  assert.is(c.eval.finalLimit, undefined);
  assert.equal(c.strategy, { type: 'random', k: 10 });
});

parse('should throw CONFIG_INVALID naming the file, the field path, the expectation and the value', async () => {
  const e = await throwsCode(() => parseTrainConfig(withField({ strategy: { type: 'random', k: 0 } }), 'configs/x.json'), 'CONFIG_INVALID');
  assert.match(e.message, /configs\/x\.json/);
  assert.match(e.message, /'strategy\.k' must be >= 1, but got 0\./);
});

parse('should name a missing field', async () => {
  const { epochs: _e, ...rest } = GOOD;
  const e = await throwsCode(() => parseTrainConfig(rest, 'a.json'), 'CONFIG_INVALID');
  assert.match(e.message, /'epochs' must be a number, but got nothing \(the field is missing\)/);
});

parse('should list the known strategy types for an unknown one', async () => {
  const e = await throwsCode(() => parseTrainConfig(withField({ strategy: { type: 'randm', k: 3 } }), 'a.json'), 'CONFIG_INVALID');
  assert.match(e.message, /'strategy\.type' must be one of "natural", "all", "random", "sparse", "guided", "pooled", "ablation-column", "ablation-block", "ablation-random", but got "randm"/);
});

parse('should reject unknown fields (typos) and bad architectures', async () => {
  const e = await throwsCode(() => parseTrainConfig(withField({ epoch: 3 }), 'a.json'), 'CONFIG_INVALID');
  assert.match(e.message, /must not have the field\(s\) 'epoch'/);
  const e2 = await throwsCode(() => parseTrainConfig(withField({ architecture: 'resnet' }), 'a.json'), 'CONFIG_INVALID');
  assert.match(e2.message, /'architecture' must be one of "mlp"/);
});

parse('should report every problem at once', async () => {
  const e = await throwsCode(() => parseTrainConfig(withField({ lr: -1, batchSize: 1.5, dataset: 'imagenet' }), 'a.json'), 'CONFIG_INVALID');
  assert.match(e.message, /3 problems/);
  assert.match(e.message, /'lr' must be > 0, but got -1/);
  assert.match(e.message, /'batchSize' must be an integer, but got 1\.5/);
  assert.match(e.message, /'dataset' must be mnist, fashion-mnist, cifar10 or folder:<path>, but got "imagenet"/);
});

parse('should reject a strategy that does not fit the threat', async () => {
  await throwsCode(() => parseTrainConfig(withField({ strategy: { type: 'sparse' } }), 'a.json'), 'CONFIG_INVALID');
  await throwsCode(() => parseTrainConfig(withField({ threat: { type: 'sparse', k: 4 } }), 'a.json'), 'CONFIG_INVALID');
  const ok = parseTrainConfig(withField({ threat: { type: 'sparse', k: 4 }, strategy: { type: 'sparse' } }), 'a.json');
  assert.is(describeThreat(ok.threat), 'sparse k=4');
});

parse('should validate guided and pooled parameters by schema', async () => {
  parseTrainConfig(withField({ strategy: { type: 'guided', k: 10, temperature: 1, baseWidth: 6 } }), 'a.json');
  parseTrainConfig(withField({ architecture: 'cnn-4layer', strategy: { type: 'pooled', neighbor: [2, 1, 2] } }), 'a.json');
  await throwsCode(() => parseTrainConfig(withField({ strategy: { type: 'pooled', neighbor: [] } }), 'a.json'), 'CONFIG_INVALID');
  await throwsCode(() => parseTrainConfig(withField({ strategy: { type: 'guided', k: 10, temp: 1 } }), 'a.json'), 'CONFIG_INVALID');
});

parse('should accept guided workers as a count in [1, 64] or "auto"', async () => {
  assert.is((parseTrainConfig(withField({ strategy: { type: 'guided', k: 10, workers: 2 } }), 'a.json').strategy as { workers?: unknown }).workers, 2);
  assert.is((parseTrainConfig(withField({ strategy: { type: 'guided', k: 10, workers: 'auto' } }), 'a.json').strategy as { workers?: unknown }).workers, 'auto');
  for (const bad of [0, 1.5, 65, 'many']) {
    const e = await throwsCode(() => parseTrainConfig(withField({ strategy: { type: 'guided', k: 10, workers: bad } }), 'a.json'), 'CONFIG_INVALID');
    assert.match(e.message, /strategy\.workers/);
  }
});

parse('should accept the guided reference quirks as booleans, transposed only on a square grid', async () => {
  const c = parseTrainConfig(withField({ strategy: { type: 'guided', k: 10, accumulateGradients: true, transposeCoordinates: true } }), 'a.json');
  assert.equal(c.strategy, { type: 'guided', k: 10, accumulateGradients: true, transposeCoordinates: true });
  assert.equal(parseTrainConfig(withField({ strategy: { type: 'guided', k: 10 } }), 'a.json').strategy, { type: 'guided', k: 10 });
  const e = await throwsCode(() => parseTrainConfig(withField({ strategy: { type: 'guided', k: 10, accumulateGradients: 'yes' } }), 'a.json'), 'CONFIG_INVALID');
  assert.match(e.message, /'strategy\.accumulateGradients' must be a boolean, but got "yes"/);
  const rect = { threat: { type: 'rectangle', height: 2, width: 3 } };
  const t = await throwsCode(() => parseTrainConfig(withField({ ...rect, strategy: { type: 'guided', k: 10, transposeCoordinates: true } }), 'a.json'), 'CONFIG_INVALID');
  assert.match(t.message, /'strategy\.transposeCoordinates' must be false for a 2×3 patch on mnist/);
  parseTrainConfig(withField({ ...rect, strategy: { type: 'guided', k: 10, transposeCoordinates: false } }), 'a.json');
});

parse.run();

// ---

const load = suite('loadTrainConfig');

load('should throw FILE_NOT_FOUND for a missing file and CONFIG_INVALID for bad JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-config-'));
  await throwsCode(() => loadTrainConfig(join(dir, 'nope.json')), 'FILE_NOT_FOUND');
  writeFileSync(join(dir, 'bad.json'), '{ "dataset": "mnist", }');
  const e = await throwsCode(() => loadTrainConfig(join(dir, 'bad.json')), 'CONFIG_INVALID');
  assert.match(e.message, /bad\.json must be valid JSON/);
});

load('should accept every config in configs/ (one per experiment of the paper)', () => {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const f = join(d, n);
      if (statSync(f).isDirectory()) walk(f);
      else if (n.endsWith('.json')) files.push(f);
    }
  };
  walk(join(REPO, 'configs'));
  assert.ok(files.length >= 100, `found ${files.length} configs`);
  const names = new Set<string>();
  for (const f of files) {
    const c = loadTrainConfig(f);
    const rel = relative(REPO, f);
    assert.ok(c.name && !names.has(c.name), `${rel}: name must be present and unique`);
    names.add(c.name!);
    if (rel.startsWith('configs/reproduce/')) {
      // Shipped-model configs shorten the paper's schedule to fit a 2-core machine and must say so.
      assert.match(c.description ?? '', /shortened schedule/, rel);
    } else if (!rel.includes('quick')) {
      // Full-size experiments use the reference hyperparameters (§5.6).
      const mnist = c.dataset === 'mnist';
      assert.is(c.epochs, mnist ? 100 : 200, rel);
      assert.is(c.lr, mnist ? 5e-4 : 1e-3, rel);
      assert.is(c.batchSize, 256, rel);
      assert.is(c.augment, !mnist, rel);
      const sparseMnist = mnist && c.threat.type === 'sparse';
      assert.equal(c.schedule, sparseMnist ? { start: 1, length: 11 } : mnist ? { start: 1, length: 61 } : { start: 10, length: 121 }, rel);
    }
  }
});

load('should include the paper tables\' experiments', () => {
  const has = (p: string): void => {
    loadTrainConfig(join(REPO, 'configs', p));
  };
  for (const ds of ['mnist', 'cifar']) {
    for (const p of ['p22', 'p55']) {
      for (const m of ['mlp', 'cnn2', 'cnn4']) for (const s of ['all', 'random1', 'random5', 'random10', 'guide10']) has(`${ds}/${ds}-${p}-${s}-${m}.json`);
      for (const s of ['pool2', 'pool4']) has(`${ds}/${ds}-${p}-${s}-cnn4.json`);
    }
  }
  for (const p of ['p22', 'p55']) {
    has(`cifar/cifar-${p}-pool212-cnn4.json`);
    for (const s of ['random10', 'random20', 'guide10', 'guide20']) has(`cifar/cifar-${p}-${s}-wide.json`);
  }
  for (const k of [1, 4, 10]) {
    has(`mnist/mnist-sparse-k${k}-mlp.json`);
    for (const m of ['mlp', 'conv11', 'conv13']) has(`cifar/cifar-sparse-k${k}-${m}.json`);
  }
  for (const k of [1, 4]) has(`mnist/mnist-sparse-k${k}-conv3.json`);
});

load.run();
