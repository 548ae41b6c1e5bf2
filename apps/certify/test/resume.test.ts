import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertifyResults } from 'certify';
import { runCli, startCli } from './helpers/cli.js';
import { saveUntrainedMnistModel } from './helpers/untrained-model.js';

interface Ctx {
  dir: string;
  model: string;
  partial?: CertifyResults;
  second?: CertifyResults;
}

const resume = suite<Ctx>('certify --resume', { dir: '', model: '' });

resume.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'certify-resume-'));
  ctx.model = await saveUntrainedMnistModel([128]);
});

resume.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
  rmSync(join(ctx.model, '..'), { recursive: true, force: true });
});

const LIMIT = 300;
const ARGS = ['--patch', '2x2,5x5', '--limit', String(LIMIT), '--batch-size', '4', '--no-progress'];

function readPartial(file: string): CertifyResults | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CertifyResults;
  } catch {
    return undefined;
  }
}

/** Starts the CLI, waits until the results file holds more than `after` images, sends SIGINT. */
async function interruptAfter(args: string[], json: string, after: number): Promise<{ code: number | null; stderr: string }> {
  const { child, done } = startCli(args);
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const r = readPartial(json);
    if (r && r.images.length > after) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  child.kill('SIGINT');
  return done;
}

resume('should keep finished images and mark the results partial on SIGINT [1 worker]', async (ctx) => {
  const json = join(ctx.dir, 'run.json');
  const report = join(ctx.dir, 'run.html');
  const r = await interruptAfter([ctx.model, ...ARGS, '--workers', '1', '--json', json, '--report', report], json, 0);
  assert.is(r.code, 130, r.stderr);
  const partial = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  assert.is(partial.partial, true);
  assert.ok(partial.images.length > 0 && partial.images.length < LIMIT, `${partial.images.length} images done`);
  assert.match(readFileSync(report, 'utf8'), /id="partial"/);
  ctx.partial = partial;
});

resume('should resume, then stop again on SIGINT [2 workers]', async (ctx) => {
  const json = join(ctx.dir, 'run.json');
  const first = ctx.partial!;
  const r = await interruptAfter([ctx.model, ...ARGS, '--workers', '2', '--json', json, '--resume'], json, first.images.length);
  assert.is(r.code, 130, r.stderr);
  const second = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  assert.is(second.partial, true);
  assert.ok(second.images.length > first.images.length && second.images.length < LIMIT, `${second.images.length} images done`);
  assert.is(second.timing.runs.length, 2);
  ctx.second = second;
});

resume('should refuse to resume with other threats', async (ctx) => {
  const r = await runCli([ctx.model, '--patch', '3x3', '--limit', String(LIMIT), '--json', join(ctx.dir, 'run.json'), '--resume', '--no-progress']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--resume must use the same threats/);
});

resume('should finish the remaining images with --resume', async (ctx) => {
  const json = join(ctx.dir, 'run.json');
  const r = await runCli([ctx.model, ...ARGS, '--workers', '1', '--json', json, '--report', join(ctx.dir, 'run.html'), '--resume']);
  assert.is(r.code, 0, r.stderr);
  const full = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  assert.is(full.partial, false);
  assert.equal(full.images.map((i) => i.index), [...Array(LIMIT).keys()]);
  for (const img of ctx.partial!.images) assert.equal(full.images[img.index], img, `image ${img.index} kept from the first run`);
  for (const img of ctx.second!.images) assert.equal(full.images[img.index], img, `image ${img.index} kept from the second run`);
  assert.is(full.timing.runs.length, 3);
  assert.is(full.timing.runs[2]!.images, LIMIT - ctx.second!.images.length);
  assert.not.match(readFileSync(join(ctx.dir, 'run.html'), 'utf8'), /id="partial"/);
});

resume.run();
