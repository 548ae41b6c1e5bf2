import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CertifyResults } from 'certify';
import { imageSeed } from 'certify';
import { initBackend, tf } from '@patchcert/backend';
import { datasetTensors, loadDataset } from '@patchcert/datasets';
import { loadModel } from '@patchcert/models';
import { certifyDerandomizedColumns, certifyRandomAblation } from '@patchcert/ablation';
import { runCli, type CliRun } from './helpers/cli.js';
import { modelRoot, saveAblationModel } from './helpers/ablation-models.js';
import { saveUntrainedMnistModel } from './helpers/untrained-model.js';
import { cellText, dumpDom } from './helpers/chromium.js';

interface Ctx {
  dir: string;
  ibp: string;
  column: string;
  random: string;
  both?: CertifyResults;
  sparseOne?: CertifyResults;
}

function assertUsageError(r: CliRun, pattern: RegExp): void {
  assert.is(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, pattern);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}

function readJson(file: string): CertifyResults {
  return JSON.parse(readFileSync(file, 'utf8')) as CertifyResults;
}

// ---
const method = suite<Ctx>('certify --method', { dir: '', ibp: '', column: '', random: '' });

method.before(async (ctx) => {
  ctx.dir = modelRoot();
  ctx.ibp = await saveUntrainedMnistModel();
  // Column bands s=4 on 2,000 training images for one epoch (a few seconds): enough that the
  // vote is right on most images and certified on some, so the flags below can disagree.
  ctx.column = await saveAblationModel(ctx.dir, 'column', { mode: 'column', bandWidth: 4 }, 1);
  ctx.random = await saveAblationModel(ctx.dir, 'random', { mode: 'random-ablation', kKeep: 45 }, 1);
});

method.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
  rmSync(join(ctx.ibp, '..'), { recursive: true, force: true });
});

method('should certify with ibp and derandomized side by side and write both to the JSON', async (ctx) => {
  const json = join(ctx.dir, 'both.json');
  const report = join(ctx.dir, 'both.html');
  const r = await runCli([ctx.ibp, '--ablation-model', ctx.column, '--method', 'ibp,derandomized', '--patch', '2x2', '--limit', '20', '--json', json, '--report', report]);
  assert.is(r.code, 0, r.stderr);
  const res = readJson(json);
  ctx.both = res;
  assert.equal(res.methods!.map((m) => m.method), ['ibp', 'derandomized']);
  assert.equal(res.summary.map((s) => s.threat), ['patch:2x2', 'derandomized:patch:2x2']);
  const der = res.methods![1]!;
  assert.is(der.passesPerImage, 28, 'one forward pass per column band');
  assert.is(der.passKind, 'forward');
  assert.equal(der.mode, { mode: 'column', bandWidth: 4 });
  assert.is(der.images, 20);
  assert.ok(der.imagesPerSecond > 0 && res.methods![0]!.imagesPerSecond > 0);
  assert.is(res.methods![0]!.passesPerImage, 1 + 27 * 27, 'IBP: a clean pass and one interval pass per 2×2 location');
  for (const img of res.images) {
    assert.ok(img.threats['patch:2x2'], `image ${img.index} has an IBP verdict`);
    assert.type(img.ablation?.derandomized?.certified['patch:2x2'], 'boolean');
  }
  const s = res.summary[1]!;
  assert.is(s.certified, res.images.filter((i) => i.ablation!.derandomized!.certified['patch:2x2']).length / 20);
  assert.is(s.clean, res.images.filter((i) => i.ablation!.derandomized!.correct).length / 20);
  assert.ok(s.clean >= 0.5, `the trained column classifier votes right on most images (clean ${s.clean})`);
  assert.match(r.stdout, /Methods side by side/);
  assert.match(r.stdout, /derandomized \(column s=4\)/);
  assert.match(r.stdout, /passes \/ image\s+730 interval\s+28 forward/);
  const html = readFileSync(report, 'utf8');
  assert.is(cellText(html, 'derandomized:patch:2x2', 'certified'), (100 * s.certified).toFixed(2));
  assert.is(cellText(html, 'derandomized:patch:2x2', 'passes'), '28 forward');
  const dom = dumpDom(report);
  assert.is(cellText(dom, 'derandomized:patch:2x2', 'js-certified'), (100 * s.certified).toFixed(2), 'the page re-counts the derandomized verdicts');
  assert.is(cellText(dom, 'patch:2x2', 'js-certified'), (100 * res.summary[0]!.certified).toFixed(2));
});

method('should give derandomized flags equal to certifyDerandomizedColumns on the same images', async (ctx) => {
  await initBackend('wasm');
  const model = await loadModel(ctx.column);
  const test = await loadDataset('mnist', { split: 'test', limit: 20 });
  const { x, y } = datasetTensors(test);
  try {
    const direct = certifyDerandomizedColumns(model, x, y, { bandWidth: 4, patchSizes: [2] });
    const viaCli = ctx.both!.images.map((i) => (i.ablation!.derandomized!.certified['patch:2x2'] ? 1 : 0));
    assert.equal(viaCli, Array.from(direct.certified[0]!));
    assert.equal(ctx.both!.images.map((i) => i.ablation!.derandomized!.prediction), Array.from(direct.predicted));
    assert.equal(ctx.both!.images[3]!.ablation!.derandomized!.votes, Array.from(direct.votes.subarray(30, 40)));
    assert.ok(viaCli.some((v) => v === 1), 'some image is certified');
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
});

method('should certify random ablation per image, the same with 1 and 2 workers and as called directly', async (ctx) => {
  const args = ['--method', 'random-ablation', '--sparse', '1,4', '--limit', '6', '--rs-n0', '10', '--rs-n', '60', '--rs-seed', '7', '--no-progress'];
  const one = join(ctx.dir, 'ra1.json');
  const two = join(ctx.dir, 'ra2.json');
  const r1 = await runCli([ctx.random, ...args, '--workers', '1', '--batch-size', '6', '--json', one]);
  assert.is(r1.code, 0, r1.stderr);
  const r2 = await runCli([ctx.random, ...args, '--workers', '2', '--batch-size', '2', '--json', two]);
  assert.is(r2.code, 0, r2.stderr);
  const a = readJson(one);
  const b = readJson(two);
  assert.is(b.timing.runs[0]!.workers, 2);
  assert.equal(a.methods!.map((m) => m.method), ['random-ablation']);
  assert.is(a.methods![0]!.passesPerImage, 70);
  assert.equal(a.images.map((i) => i.ablation), b.images.map((i) => i.ablation));
  assert.is(a.heatmapThreat, null, 'no IBP, no heatmaps');
  await initBackend('wasm');
  const model = await loadModel(ctx.random);
  const test = await loadDataset('mnist', { split: 'test', limit: 6 });
  const { x, y } = datasetTensors(test);
  try {
    const labels = Array.from(test.labels);
    for (let i = 0; i < 6; i++) {
      const xi = tf.slice(x, [i, 0, 0, 0], [1, 28, 28, 1]);
      const d = certifyRandomAblation(model, xi, [labels[i]!], { kKeep: 45, k: [1, 4], n0: 10, n: 60, alpha: 0.05, seed: imageSeed(7, i) });
      xi.dispose();
      const v = a.images[i]!.ablation!['random-ablation']!;
      assert.is(v.pALower, d.pALower[0], `image ${i}`);
      assert.is(v.certified['sparse:1'], d.certified[0]![0] === 1);
      assert.is(v.certified['sparse:4'], d.certified[1]![0] === 1);
    }
  } finally {
    tf.dispose([x, y]);
    model.dispose();
  }
});

method('should refuse to resume with other methods', async (ctx) => {
  const json = join(ctx.dir, 'both.json');
  assertUsageError(await runCli([ctx.ibp, '--patch', '2x2', '--limit', '20', '--json', json, '--resume', '--no-progress']), /--resume must use the same methods/);
});

method('should reject derandomized without an ablation model', async (ctx) => {
  assertUsageError(
    await runCli([ctx.ibp, '--method', 'ibp,derandomized', '--patch', '2x2', '--limit', '2']),
    /--method derandomized needs a column or block ablation classifier given with --ablation-model <dir>, but none was given/,
  );
});

method('should reject an ablation model whose mode does not fit the method', async (ctx) => {
  assertUsageError(
    await runCli([ctx.ibp, '--ablation-model', ctx.random, '--method', 'ibp,derandomized', '--patch', '2x2', '--limit', '2']),
    /--method derandomized needs a column or block ablation classifier, but --ablation-model .* is random-ablation kKeep=45/,
  );
  assertUsageError(
    await runCli([ctx.column, '--method', 'random-ablation', '--sparse', '1', '--limit', '2']),
    /--method random-ablation needs a random-ablation classifier, but <model-dir> .* is column s=4/,
  );
});

method('should reject ibp on an ablation model', async (ctx) => {
  assertUsageError(await runCli([ctx.column, '--method', 'ibp,derandomized', '--limit', '2']), /--method ibp needs an IBP model as <model-dir>, but .* is an ablation classifier/);
});

method('should reject an IBP model as --ablation-model, an unused ablation model, an unknown method and a method without its threats', async (ctx) => {
  assertUsageError(await runCli([ctx.ibp, '--ablation-model', ctx.ibp, '--method', 'ibp,derandomized', '--limit', '2']), /--ablation-model must be an ablation classifier/);
  assertUsageError(await runCli([ctx.ibp, '--ablation-model', ctx.column, '--limit', '2']), /must serve one of the methods, but it is column s=4 and --method is ibp \(add derandomized\)/);
  assertUsageError(await runCli([ctx.ibp, '--method', 'ibp,crown', '--limit', '2']), /--method must list methods from ibp, derandomized, random-ablation, but got 'crown'/);
  assertUsageError(await runCli([ctx.column, '--method', 'derandomized', '--sparse', '1', '--limit', '2']), /--method derandomized certifies --patch or --shapes threats, but got only sparse:1/);
  assertUsageError(await runCli([ctx.random, '--method', 'random-ablation', '--sparse', '1', '--rs-alpha', '1.5']), /--rs-alpha must be a number in \(0, 1\)/);
});

method.run();
