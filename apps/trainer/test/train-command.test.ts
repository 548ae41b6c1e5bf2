import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PatchcertError } from '@patchcert/backend';
import { parseTrainConfig, type TrainResult } from '@patchcert/trainers';
import { loadModel } from '@patchcert/models';
import { runTrain, resolveConfig, DEFAULT_CONFIG, formatSummary, progressRenderer } from 'trainer';

const APP = fileURLToPath(new URL('..', import.meta.url));
const REPO = join(APP, '..', '..');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'pc-cli-'));

const TINY = {
  name: 'tiny',
  dataset: 'mnist',
  architecture: 'mlp',
  hidden: [32],
  threat: { type: 'patch', size: 2 },
  strategy: { type: 'random', k: 2 },
  epochs: 2,
  batchSize: 64,
  lr: 2e-3,
  schedule: { start: 1, length: 2 },
  data: { trainLimit: 256 },
  eval: { epochLimit: 50, finalLimit: 60, batchSize: 30 },
};

function cli(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--conditions=@patchcert/source', '--import', 'tsx', 'src/main.ts', ...args], { cwd: APP, encoding: 'utf8', env: { ...process.env, INIT_CWD: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const resolve = suite('resolveConfig');

resolve('should use the built-in default without --config, equal to configs/quick/mnist-mlp-p22-default.json', () => {
  const c = resolveConfig({});
  assert.is(c.name, 'default');
  const file = parseTrainConfig(JSON.parse(readFileSync(join(REPO, 'configs/quick/mnist-mlp-p22-default.json'), 'utf8')));
  assert.equal(c, file);
  assert.equal(parseTrainConfig(DEFAULT_CONFIG), c);
});

resolve('should apply --epochs, --seed, --train-limit and --final-limit over the file', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'c.json'), JSON.stringify(TINY));
  const c = resolveConfig({ config: join(dir, 'c.json'), epochs: 5, seed: 11, trainLimit: 100, finalLimit: 10 });
  assert.is(c.epochs, 5);
  assert.is(c.seed, 11);
  assert.is(c.data.trainLimit, 100);
  assert.is(c.eval.finalLimit, 10);
  assert.is(c.eval.epochLimit, 50);
});

resolve('should throw CONFIG_INVALID for a bad file and FILE_NOT_FOUND for a missing one', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...TINY, strategy: { type: 'random' } }));
  try {
    resolveConfig({ config: join(dir, 'bad.json') });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, 'CONFIG_INVALID');
  }
  try {
    resolveConfig({ config: join(dir, 'none.json') });
    assert.unreachable();
  } catch (e) {
    assert.is((e as PatchcertError).code, 'FILE_NOT_FOUND');
  }
});

resolve.run();

// ---

const runSuite = suite('runTrain');

runSuite('should print the backend line first, train, and write metrics, model and summary', async () => {
  const dir = tmp();
  writeFileSync(join(dir, 'c.json'), JSON.stringify(TINY));
  const lines: string[] = [];
  const out = join(dir, 'out');
  const r: TrainResult = await runTrain({ config: join(dir, 'c.json'), out, backend: 'wasm' }, { write: (l) => lines.push(l), isTTY: false });
  assert.match(lines[0]!, /^backend: wasm \(tfjs wasm/);
  assert.ok(lines.some((l) => /^epoch +2 .*certified/.test(l)), lines.join('\n'));
  assert.match(lines[lines.length - 1]!, /certified accuracy\s+\d+\.\d\d% \(every location/);
  assert.is(r.history.length, 2);
  assert.is(r.final?.images, 60);
  assert.is(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  assert.ok(existsSync(join(out, 'model', 'model.json')));
  assert.ok(existsSync(join(out, 'checkpoint', 'state.json')));
  // --resume on a finished run trains nothing more and re-certifies.
  const again = await runTrain({ config: join(dir, 'c.json'), out, resume: true, finalEval: false }, { write: () => {}, isTTY: false });
  assert.is(again.history.length, 2);
});

runSuite.run();

// ---

const main = suite('main');

main('should exit 2 with the field path and code for a bad config, and for a bad option', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...TINY, epochs: 0 }));
  const r = cli(['--', '--config', join(dir, 'bad.json'), '--out', join(dir, 'o')]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stdout, /^backend: /);
  assert.match(r.stderr, /'epochs' must be >= 1, but got 0\. \[CONFIG_INVALID\]/);
  const r2 = cli(['--epochs', 'zero']);
  assert.is(r2.code, 2);
  assert.match(r2.stderr, /--epochs must be an integer >= 1/);
});

main('should resume after SIGKILL mid-run to the same weights as an uninterrupted run', async () => {
  const dir = tmp();
  const config = { ...TINY, epochs: 3, batchSize: 32, data: { trainLimit: 512 }, eval: { epochLimit: 0 } };
  writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
  const whole = join(dir, 'whole');
  await runTrain({ config: join(dir, 'c.json'), out: whole, finalEval: false }, { write: () => {}, isTTY: false });
  const killed = join(dir, 'killed');
  const child = spawn(process.execPath, ['--conditions=@patchcert/source', '--import', 'tsx', 'src/main.ts', '--config', join(dir, 'c.json'), '--out', killed, '--no-final-eval'], { cwd: APP, stdio: 'ignore', env: { ...process.env, INIT_CWD: '' } });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  // Kill as soon as the first epoch's checkpoint exists, i.e. somewhere inside epoch 2.
  for (let i = 0; i < 600 && !existsSync(join(killed, 'checkpoint', 'state.json')); i++) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await exited;
  assert.ok(existsSync(join(killed, 'checkpoint', 'state.json')), 'a checkpoint was written before the kill');
  assert.not.ok(existsSync(join(killed, 'model')), 'killed before the end');
  const r = cli(['--config', join(dir, 'c.json'), '--out', killed, '--no-final-eval', '--resume']);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /resumed at epoch/);
  const read = async (d: string): Promise<number[][]> => {
    const m = await loadModel(join(d, 'model'));
    const w = m.trainableVariables().map((v) => Array.from(v.dataSync()));
    m.dispose();
    return w;
  };
  assert.equal(await read(killed), await read(whole));
});

main('should stop within a few batches of a SIGINT, not at the end of the epoch', async () => {
  const dir = tmp();
  // One certificate-training epoch of 3,750 batches: far longer than the test waits, so only the
  // interrupt can end it.
  const config = { ...TINY, epochs: 1, batchSize: 8, schedule: { start: 0, length: 2 }, data: { trainLimit: 30000 }, eval: { epochLimit: 0 } };
  writeFileSync(join(dir, 'c.json'), JSON.stringify(config));
  const out = join(dir, 'run');
  const child = spawn(process.execPath, ['--conditions=@patchcert/source', '--import', 'tsx', 'src/main.ts', '--config', join(dir, 'c.json'), '--out', out, '--no-final-eval'], { cwd: APP, env: { ...process.env, INIT_CWD: '' } });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  for (let i = 0; i < 600 && !stdout.includes('batches/epoch'); i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000)); // some batches in
  const t0 = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  assert.ok(Date.now() - t0 < 5000, `stopped ${Date.now() - t0} ms after SIGINT`);
  assert.match(stdout, /interrupt: stopping after this batch/, `code ${code}: ${stdout}`);
  assert.not.ok(existsSync(join(out, 'model')), 'no final model from an interrupted epoch');
  assert.is(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), '', 'no epoch finished');
  assert.ok(code !== null, 'exited on its own');
});

main('should list the options with --help', () => {
  const r = cli(['--help']);
  assert.is(r.code, 0);
  for (const o of ['--config', '--out', '--backend', '--epochs', '--seed', '--resume']) assert.ok(r.stdout.includes(o), o);
});

main.run();

// ---

const render = suite('formatSummary');

render('should show clean and certified accuracy and where things are', () => {
  const config = parseTrainConfig(TINY);
  const s = formatSummary({ config, modelDir: '/o/model', history: [], trainSeconds: 12.3, interrupted: false, final: { images: 1000, cleanAccuracy: 0.9812, certifiedAccuracy: 0.7, seconds: 3 } }, '/o', 20);
  assert.match(s, /clean accuracy +98\.12% \(1000 test images\)/);
  assert.match(s, /certified accuracy +70\.00%/);
  assert.match(s, /strategy random\(2\)/);
  assert.ok(s.split('\n').length < 24, 'fits one screen');
});

render('[ablation] should name the smoothed classifier\'s certificate instead of IBP\'s every location', () => {
  const config = parseTrainConfig({ ...TINY, strategy: { type: 'ablation-column', bandWidth: 4 } });
  const s = formatSummary({ config, modelDir: '/o/model', history: [], trainSeconds: 1, interrupted: false, final: { images: 100, cleanAccuracy: 0.7, certifiedAccuracy: 0.25, seconds: 3 } }, '/o', 2);
  assert.match(s, /strategy ablation-column\(4\)/);
  assert.match(s, /certified accuracy +25\.00% \(derandomized column s=4, 2x2 patch\)/);
  assert.not.match(s, /every location/);
});

render.run();

// ---

const progress = suite('progressRenderer');

progress('should write one line per epoch when not on a terminal', () => {
  const lines: string[] = [];
  const p = progressRenderer({ write: (l) => lines.push(l), isTTY: false });
  p.onEvent({ type: 'epoch-start', epoch: 0, epochs: 2, lr: 1e-3, epsStart: 0, epsEnd: 0.5, natural: false, batches: 3 });
  p.onEvent({ type: 'batch', epoch: 0, batch: 0, batches: 3, loss: 1, eps: 0, imagesPerSecond: 100 });
  p.onEvent({
    type: 'epoch-end',
    metrics: { epoch: 0, lr: 1e-3, epsStart: 0, epsEnd: 0.5, epsLastBatch: 0.5, natural: false, trainLoss: 1.5, trainAccuracy: 0.5, cleanAccuracy: 0.8, certifiedAccuracy: 0.4, evalImages: 10, trainSeconds: 1, evalSeconds: 1, imagesPerSecond: 100, trainCpuSeconds: 0.5, imagesPerCpuSecond: 200, rssMiB: 1, numTensors: 1 },
  });
  p.stop();
  assert.is(lines.length, 1);
  assert.match(lines[0]!, /epoch +1 .*clean 80\.00% certified 40\.00% \| 100 img\/s \(200 per CPU-s\)/);
});

progress.run();
