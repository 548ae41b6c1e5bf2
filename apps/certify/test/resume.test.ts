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

const ARGS = ['--patch', '2x2,5x5', '--limit', '120', '--batch-size', '4', '--no-progress'];

function readPartial(file: string): CertifyResults | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CertifyResults;
  } catch {
    return undefined;
  }
}

resume('should keep finished images and mark the results partial on SIGINT', async (ctx) => {
  const json = join(ctx.dir, 'run.json');
  const report = join(ctx.dir, 'run.html');
  const { child, done } = startCli([ctx.model, ...ARGS, '--workers', '2', '--json', json, '--report', report]);
  // Interrupt as soon as the first incremental write shows some images done.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = readPartial(json);
    if (r && r.images.length > 0) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  child.kill('SIGINT');
  const r = await done;
  assert.is(r.code, 130, r.stderr);
  const partial = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  assert.is(partial.partial, true);
  assert.ok(partial.images.length > 0 && partial.images.length < 120, `${partial.images.length} images done`);
  assert.match(readFileSync(report, 'utf8'), /id="partial"/);
  ctx.partial = partial;
});

resume('should refuse to resume with other threats', async (ctx) => {
  const r = await runCli([ctx.model, '--patch', '3x3', '--limit', '120', '--json', join(ctx.dir, 'run.json'), '--resume', '--no-progress']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /--resume must use the same threats/);
});

resume('should finish the remaining images with --resume', async (ctx) => {
  const json = join(ctx.dir, 'run.json');
  const r = await runCli([ctx.model, ...ARGS, '--workers', '1', '--json', json, '--report', join(ctx.dir, 'run.html'), '--resume']);
  assert.is(r.code, 0, r.stderr);
  const full = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  assert.is(full.partial, false);
  assert.equal(full.images.map((i) => i.index), [...Array(120).keys()]);
  const before = ctx.partial!;
  for (const img of before.images) assert.equal(full.images[img.index], img, `image ${img.index} kept from the first run`);
  assert.is(full.timing.runs.length, 2);
  assert.is(full.timing.runs[1]!.images, 120 - before.images.length);
  assert.not.match(readFileSync(join(ctx.dir, 'run.html'), 'utf8'), /id="partial"/);
});

resume.run();
