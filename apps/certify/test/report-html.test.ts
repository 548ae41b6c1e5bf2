import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReportHtml, marginColor, marginScale } from '../src/report-html.js';
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

color('should be red below zero, deepest at the most negative margin', () => {
  const scale = marginScale([-2, -1, 3]);
  assert.equal(marginColor(-2, scale), [255, 0, 0]);
  assert.equal(marginColor(-1, scale), [255, 128, 128]);
});

color('should be blue above zero, palest at the weakest positive margin', () => {
  const scale = marginScale([1, 2, 3]);
  assert.is(scale.low, 1);
  const [r1, , b1] = marginColor(1, scale);
  const [r3, , b3] = marginColor(3, scale);
  assert.ok(r1 > 200 && b1 === 255, 'pale');
  assert.ok(r3 === 0 && b3 === 255, 'deep');
});

color.run();
