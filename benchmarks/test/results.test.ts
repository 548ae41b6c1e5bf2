import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { fromMarkdown, geometricMean, markdownTable, mergeResults, parseCompare, ratioRows, toMarkdown, writeResults, type ResultsFile } from '@patchcert/benchmarks';
import { budgetEps } from '../src/strategies/budget.bench.js';

const machine = { name: 'test-box', cpuModel: 'Test CPU', cores: 2, memoryGiB: 8, os: 'linux x64', node: 'v20.0.0', tfjs: '4.22.0', patchcert: '0.1.0 (abc)' };

function file(suite: string, rows: (string | number)[][]): ResultsFile {
  return {
    machine,
    runs: [{ suite, preset: 'quick', date: '2026-11-25 16:00', loadAverage: '1.0 / 1.0 / 1.0', seconds: 3 }],
    sections: [{ suite, title: `${suite} table`, columns: ['task', 'median ms'], rows }],
  };
}

/** Every line of a markdown table has the header's cell count, and the second line is the rule. */
function checkTable(md: string, cells: number): void {
  const lines = md.trimEnd().split('\n');
  assert.match(lines[1]!, /^\|(---\|)+$/);
  for (const line of lines) {
    // Escaped pipes are cell content, not separators.
    const n = line.replace(/\\\|/g, '').split('|').length - 2;
    assert.is(n, cells, line);
  }
}

// ---

const md = suite('markdownTable');

md('should write a header, a rule and one line per row', () => {
  const t = markdownTable(['a', 'b'], [[1, 'x'], [2, 'y']]);
  assert.is(t, '| a | b |\n|---|---|\n| 1 | x |\n| 2 | y |\n');
});

md('should escape pipes and newlines and pad short rows', () => {
  const t = markdownTable(['a', 'b', 'c'], [['x|y', 'two\nlines']]);
  checkTable(t, 3);
  assert.ok(t.includes('x\\|y'));
  assert.ok(t.includes('two lines'));
});

md.run();

// ---

const merge = suite('mergeResults');

merge('should replace the suites that ran and keep the others', () => {
  const old: ResultsFile = { ...file('a/x', [['t', 1]]), runs: [...file('a/x', []).runs, ...file('b/y', []).runs], sections: [...file('a/x', [['t', 1]]).sections, ...file('b/y', [['u', 2]]).sections] };
  const merged = mergeResults(old, file('a/x', [['t', 9]]));
  assert.equal(merged.runs.map((r) => r.suite), ['a/x', 'b/y']);
  assert.equal(merged.sections.map((s) => s.rows[0]![1]), [9, 2]);
});

merge('should take the fresh file when there is no old one', () => {
  const fresh = file('a/x', [['t', 1]]);
  assert.is(mergeResults(undefined, fresh), fresh);
});

merge.run();

// ---

const write = suite('writeResults');

write('should write JSON that parses back and markdown whose tables are well formed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-bench-results-'));
  try {
    writeResults(dir, file('a/x', [['t | pipe', 1.5]]));
    const { json, md: mdPath } = writeResults(dir, file('b/y', [['u', 2]]));
    const back = JSON.parse(readFileSync(json, 'utf8')) as ResultsFile;
    assert.equal(back.sections.map((s) => s.suite), ['a/x', 'b/y']);
    assert.is(back.machine.cpuModel, 'Test CPU');
    const text = readFileSync(mdPath, 'utf8');
    assert.is(text, toMarkdown(back));
    assert.ok(text.startsWith('# patchcert benchmarks: test-box'));
    // Split into blocks of table lines and check each block.
    const blocks = text.split(/\n(?!\|)/).map((b) => b.split('\n').filter((l) => l.startsWith('|')).join('\n')).filter(Boolean);
    assert.is(blocks.length, 4);
    for (const b of blocks) checkTable(b, b.split('\n')[0]!.split('|').length - 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

write('should keep the suites of a committed report when the JSON is not there (a fresh checkout)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-bench-results-'));
  try {
    const earlier: ResultsFile = {
      ...file('a/x', [['t | pipe', '1.5'], ['', 'empty first cell']]),
      runs: [...file('a/x', []).runs, ...file('b/y', []).runs],
      sections: [{ ...file('a/x', [['t | pipe', '1.5'], ['', 'empty first cell']]).sections[0]!, notes: ['what a column means: x', 'a second note'] }, ...file('b/y', [['u', '2']]).sections],
    };
    writeFileSync(join(dir, 'test-box.md'), toMarkdown(earlier));
    assert.equal(fromMarkdown(toMarkdown(earlier)), earlier, 'the report reads back as the file it was written from');
    const { md: mdPath } = writeResults(dir, file('b/y', [['u', 9]]));
    const back = fromMarkdown(readFileSync(mdPath, 'utf8'))!;
    assert.equal(back.sections.map((s) => [s.suite, s.rows]), [['a/x', [['t | pipe', '1.5'], ['', 'empty first cell']]], ['b/y', [['u', '9']]]]);
    assert.equal(back.sections[0]!.notes, ['what a column means: x', 'a second note']);
    assert.equal(back.runs.map((r) => r.suite), ['a/x', 'b/y']);
    assert.is(fromMarkdown('# something else\n'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

write.run();

// ---

const pc = suite('parseCompare');

pc('should read a key and two values', () => {
  assert.equal(parseCompare('backend=wasm,cpu'), { key: 'backend', values: ['wasm', 'cpu'] });
  assert.equal(parseCompare('method=fast,naive'), { key: 'method', values: ['fast', 'naive'] });
});

pc('should throw INVALID_OPTION for an unknown key, one value or equal values', () => {
  for (const bad of ['threads=1,2', 'backend=wasm', 'backend=wasm,wasm', 'backend=a,b,c']) {
    try {
      parseCompare(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'INVALID_OPTION', bad);
    }
  }
});

pc.run();

// ---

const ratios = suite('ratioRows');

ratios('should divide the first median by the second for the tasks both ran', () => {
  const a = new Map([['t1', 30], ['t2', 10], ['only-a', 5]]);
  const b = new Map([['t2', 40], ['t1', 10], ['only-b', 1]]);
  assert.equal(ratioRows(a, b), [
    { task: 't1', a: 30, b: 10, ratio: 3 },
    { task: 't2', a: 10, b: 40, ratio: 0.25 },
  ]);
});

ratios('should drop rows with a NaN or zero time', () => {
  assert.equal(ratioRows(new Map([['t', Number.NaN], ['u', 1]]), new Map([['t', 1], ['u', 0]])), []);
});

ratios('[geometricMean] should treat 3× and 1/3× symmetrically', () => {
  assert.ok(Math.abs(geometricMean([3, 1 / 3]) - 1) < 1e-12);
  assert.ok(Math.abs(geometricMean([2, 8]) - 4) < 1e-12);
  assert.ok(Number.isNaN(geometricMean([])));
});

ratios.run();

// ---

const eps = suite('budgetEps');

eps('should be 0 in the warm-up, ramp linearly, then stay at 1', () => {
  assert.is(budgetEps(0), 0);
  assert.is(budgetEps(0.05), 0);
  assert.ok(Math.abs(budgetEps(0.3) - 0.5) < 1e-12);
  assert.is(budgetEps(0.55), 1);
  assert.is(budgetEps(1), 1);
});

eps.run();
