import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReportHtml, marginColor } from '../src/report-html.js';
import { cellText, dumpDom, screenshot } from './helpers/chromium.js';
import { syntheticResults } from './helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'certify-report-'));

// ---
const build = suite('buildReportHtml');

build('should load no external resources', () => {
  const html = buildReportHtml(syntheticResults());
  assert.not.match(html, /(src|href)="(https?:)?\/\//);
  assert.not.match(html, /<link /);
  assert.match(html, /src="data:image\/png;base64,/);
});

build('should mark a partial run', () => {
  assert.match(buildReportHtml(syntheticResults(true)), /id="partial"/);
  assert.not.match(buildReportHtml(syntheticResults(false)), /id="partial"/);
});

build('should render in headless chromium with the numbers of the results', () => {
  const results = syntheticResults();
  const file = join(dir, 'report.html');
  writeFileSync(file, buildReportHtml(results));
  const dom = dumpDom(file);
  assert.match(dom, /data-rendered="true"/, 'the page script ran');
  for (const s of results.summary) {
    assert.is(cellText(dom, s.threat, 'certified'), (100 * s.certified).toFixed(2));
    assert.is(cellText(dom, s.threat, 'clean'), (100 * s.clean).toFixed(2));
    // Recomputed in the page from the embedded per-image verdicts.
    assert.is(cellText(dom, s.threat, 'js-certified'), (100 * s.certified).toFixed(2));
  }
  assert.is(cellText(dom, 'patch:2x2', 'certified'), '40.00');
  const certifiedSection = /<section id="certified">([\s\S]*?)<\/section>/.exec(dom)?.[1] ?? '';
  const uncertifiedSection = /<section id="uncertified">([\s\S]*?)<\/section>/.exec(dom)?.[1] ?? '';
  assert.is((certifiedSection.match(/<img class="heatmap"/g) ?? []).length, 2);
  assert.is((uncertifiedSection.match(/<img class="heatmap"/g) ?? []).length, 2);
});

build('should draw a non-blank screenshot', () => {
  const file = join(dir, 'report.html');
  writeFileSync(file, buildReportHtml(syntheticResults()));
  const png = join(dir, 'shot.png');
  screenshot(file, png);
  const bytes = readFileSync(png);
  assert.is(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(bytes.length > 5000, `screenshot has ${bytes.length} bytes`);
});

build.after(() => rmSync(dir, { recursive: true, force: true }));
build.run();

// ---
const color = suite('marginColor');

color('should be white at zero, red below and blue above', () => {
  assert.equal(marginColor(0, 1), [255, 255, 255]);
  assert.equal(marginColor(-1, 1), [255, 0, 0]);
  const [r, , b] = marginColor(1, 1);
  assert.is(r, 0);
  assert.is(b, 255);
});

color('should clip beyond the scale', () => {
  assert.equal(marginColor(-10, 1), marginColor(-1, 1));
});

color.run();
