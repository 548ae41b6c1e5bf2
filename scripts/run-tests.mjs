#!/usr/bin/env node
// Runs uvu test files, each in its own Node process (tfjs keeps global backend state, so
// isolation keeps one file's backend choice from leaking into another), two at a time, and
// ends with one line `N passed, N failed` summing every file.
//
// Usage: node scripts/run-tests.mjs [dir …]   (default: every workspace package)
// Test files are `<pkg>/test/**/*.test.ts`; they import workspace packages from source through
// the `@patchcert/source` export condition, so a test run needs no prior build of its deps.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { cpus } from 'node:os';

const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const dirs = args.length > 0
  ? args.map((a) => resolve(a))
  : ['packages', 'apps'].flatMap((d) => listDirs(join(root, d))).concat([join(root, 'tests'), join(root, 'benchmarks')]);

function listDirs(d) {
  if (!existsSync(d)) return [];
  return readdirSync(d).map((n) => join(d, n)).filter((p) => statSync(p).isDirectory());
}
function findTests(d) {
  const out = [];
  const walk = (p) => {
    for (const n of readdirSync(p)) {
      const f = join(p, n);
      if (n === 'node_modules' || n === 'dist') continue;
      if (statSync(f).isDirectory()) walk(f);
      else if (n.endsWith('.test.ts')) out.push(f);
    }
  };
  const t = join(d, 'test');
  if (existsSync(t)) walk(t);
  return out.sort();
}

const files = dirs.flatMap(findTests);
const FILE_TIMEOUT_MS = Number(process.env.PATCHCERT_TEST_TIMEOUT_MS ?? 15 * 60 * 1000);
const jobs = Math.max(1, Math.min(Number(process.env.PATCHCERT_TEST_JOBS ?? cpus().length), 4));
const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

function runFile(file) {
  return new Promise((done) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--conditions=@patchcert/source', '--import', 'tsx', file], {
      cwd: join(file, '..', '..'),
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const timer = setTimeout(() => { out += `\n[run-tests] killed after ${FILE_TIMEOUT_MS} ms\n`; child.kill('SIGKILL'); }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = strip(out);
      const total = Number(/Total:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const passed = Number(/Passed:\s+(\d+)/.exec(text)?.[1] ?? NaN);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(text)?.[1] ?? 0);
      let p = 0, f = 0;
      if (Number.isFinite(total) && Number.isFinite(passed)) { p = passed; f = total - passed - skipped; }
      // A file that crashed before uvu's summary, or exited non-zero with no failed test, is one failure.
      if (!Number.isFinite(total) || (code !== 0 && f === 0)) f += 1;
      done({ file, code, passed: p, failed: f, skipped, ms: Date.now() - t0, text });
    });
  });
}

const results = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    const r = await runFile(file);
    results.push(r);
    const tag = r.failed > 0 ? 'FAIL' : 'ok  ';
    console.log(`${tag} ${relative(root, r.file)}  ${r.passed} passed, ${r.failed} failed  (${(r.ms / 1000).toFixed(1)} s)`);
    if (r.failed > 0) console.log(r.text.split('\n').map((l) => '    | ' + l).join('\n'));
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
const passed = results.reduce((s, r) => s + r.passed, 0);
const failed = results.reduce((s, r) => s + r.failed, 0);
const skipped = results.reduce((s, r) => s + r.skipped, 0);
if (files.length === 0) console.log('no test files found');
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
