import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertifyResults } from 'certify';
import { subsetIndices } from '@patchcert/datasets';
import { runCli } from './helpers/cli.js';
import { trainTinyMnistModel } from './helpers/tiny-model.js';
import { cellText, dumpDom } from './helpers/chromium.js';

interface Ctx {
  dir: string;
  model: string;
  two?: CertifyResults;
}

const cli = suite<Ctx>('certify command', { dir: '', model: '' });

cli.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'certify-cli-'));
  ctx.model = await trainTinyMnistModel();
});

cli.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
  rmSync(join(ctx.model, '..'), { recursive: true, force: true });
});

const THREATS = ['--patch', '2x2', '--shapes', '4', '--sparse', '1,4'];

cli('should certify 20 images with 2 workers and write per-image JSON', async (ctx) => {
  const json = join(ctx.dir, 'two.json');
  const report = join(ctx.dir, 'two.html');
  // Batches of 5 so both workers get some (the default batch of 32 would be one batch).
  const r = await runCli(['--', ctx.model, ...THREATS, '--limit', '20', '--workers', '2', '--batch-size', '5', '--json', json, '--report', report]);
  assert.is(r.code, 0, r.stderr);
  const results = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  ctx.two = results;
  assert.is(results.partial, false);
  assert.is(results.images.length, 20);
  assert.is(results.dataset.name, 'mnist', 'the dataset defaults to the model metadata');
  assert.equal(results.images.map((i) => i.index), [...Array(20).keys()]);
  assert.match(results.backend, /^backend: wasm/);
  assert.is(results.timing.runs[0]!.workers, 2);
  assert.is(results.model.metadata.architecture, 'mlp');
  const ids = results.threats.map((t) => t.id);
  assert.ok(ids.includes('patch:2x2') && ids.includes('sparse:4') && ids.includes('shape:diamond:4'));
  for (const img of results.images) {
    assert.is(img.correct, img.label === img.prediction);
    for (const id of ids) {
      const v = img.threats[id]!;
      assert.ok(v, `image ${img.index} has a verdict for ${id}`);
      assert.is(v.certified, v.worstMargin >= 0, `${id} certified iff the worst margin is >= 0`);
      if (v.certified) assert.ok(img.correct, 'a certified image is correctly classified');
      assert.ok(v.worstClass !== img.label && v.worstClass >= 0 && v.worstClass < 10);
      if (id.startsWith('sparse')) assert.is(v.worstLocation, null);
      else assert.ok(Array.isArray(v.worstLocation));
    }
  }
  const s2 = results.summary.find((s) => s.threat === 'patch:2x2')!;
  assert.ok(s2.clean >= 0.5, `the trained model classifies (clean ${s2.clean})`);
  assert.is(s2.certified, results.images.filter((i) => i.threats['patch:2x2']!.certified).length / 20);
  assert.ok(results.samples.length > 0, 'report samples were kept');
  // Maps are computed only for images that can still become samples; every kept sample has one,
  // and the samples are each verdict's lowest indices.
  for (const sample of results.samples) assert.is(sample.worstMarginMap.length, sample.rows * sample.cols, `sample ${sample.index} heatmap`);
  for (const certified of [true, false]) {
    const want = results.images.filter((i) => i.threats['patch:2x2']!.certified === certified).map((i) => i.index).slice(0, 6);
    assert.equal(results.samples.filter((x) => x.certified === certified).map((x) => x.index).sort((a, b) => a - b), want, `${certified ? 'certified' : 'uncertified'} samples`);
  }
  assert.match(r.stdout, /Shape transfer/);
  assert.match(r.stdout, /Sparse certification/);
});

cli('should give the same verdicts with 1 worker as with 2', async (ctx) => {
  const json = join(ctx.dir, 'one.json');
  const r = await runCli([ctx.model, ...THREATS, '--limit', '20', '--workers', '1', '--json', json, '--no-progress']);
  assert.is(r.code, 0, r.stderr);
  const one = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  assert.ok(ctx.two, 'the 2-worker run ran first');
  assert.equal(one.summary, ctx.two!.summary);
  one.images.forEach((img, i) => {
    const other = ctx.two!.images[i]!;
    assert.is(img.prediction, other.prediction);
    for (const [id, v] of Object.entries(img.threats)) {
      const w = other.threats[id]!;
      assert.is(v.certified, w.certified, `image ${i} ${id}`);
      // Worker threads run their own wasm instance; bounds agree to float rounding.
      assert.ok(Math.abs(v.worstMargin - w.worstMargin) < 1e-4, `image ${i} ${id}: ${v.worstMargin} vs ${w.worstMargin}`);
    }
  });
});

cli('should write an HTML report whose numbers match the JSON in headless chromium', (ctx) => {
  const results = ctx.two!;
  const dom = dumpDom(join(ctx.dir, 'two.html'));
  assert.match(dom, /data-rendered="true"/);
  for (const s of results.summary) {
    assert.is(cellText(dom, s.threat, 'certified'), (100 * s.certified).toFixed(2), s.threat);
    assert.is(cellText(dom, s.threat, 'clean'), (100 * s.clean).toFixed(2), s.threat);
    assert.is(cellText(dom, s.threat, 'js-certified'), (100 * s.certified).toFixed(2), s.threat);
  }
  assert.match(dom, /<span id="image-count">20<\/span>/);
  const heatmaps = dom.match(/<img class="heatmap"/g) ?? [];
  assert.is(heatmaps.length, results.samples.length);
  assert.not.match(dom, /id="partial"/);
});

cli('should certify a seeded sample under its test-split indices', async (ctx) => {
  const json = join(ctx.dir, 'sample.json');
  const r = await runCli([ctx.model, '--patch', '2x2', '--sample', '5', '--seed', '3', '--workers', '1', '--json', json, '--no-progress']);
  assert.is(r.code, 0, r.stderr);
  const results = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
  const expected = Array.from(subsetIndices(10000, { sample: 5, seed: 3 })!);
  assert.equal(results.images.map((i) => i.index), expected);
  assert.ok(expected.some((i) => i >= 5), 'a sample, not a prefix');
  assert.is(results.dataset.total, 5);
  assert.is(results.dataset.sample, 5);
});

cli.run();
