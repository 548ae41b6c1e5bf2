import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { syntheticResults } from './helpers/fixtures.js';

const report = suite<{ dir: string }>('report command', { dir: '' });

report.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'certify-report-cmd-'));
});

report.after((ctx) => rmSync(ctx.dir, { recursive: true, force: true }));

report('should rebuild the HTML report from a results file and print the tables', async (ctx) => {
  const json = join(ctx.dir, 'r.json');
  const html = join(ctx.dir, 'r.html');
  writeFileSync(json, JSON.stringify(syntheticResults()));
  const r = await runCli(['report', json, '--out', html]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /mnist\s+2×2 patch\s+10\s+90\.00\s+40\.00/);
  assert.match(r.stdout, /mnist\s+1\s+90\.00 \/ 70\.00/);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /<tr data-threat="patch:2x2">.*<td class="certified">40\.00<\/td>/);
});

report('should reject a file that is not a results file', async (ctx) => {
  const json = join(ctx.dir, 'bad.json');
  writeFileSync(json, JSON.stringify({ hello: 1 }));
  const r = await runCli(['report', json, '--out', join(ctx.dir, 'bad.html')]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /Error in readResults: .* must be a results file with schema 'patchcert-certify\/1'/);
});

report.run();
