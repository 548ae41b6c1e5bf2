import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench } from 'tinybench';
import type { MachineInfo } from './machine.js';

/** A cell of a results table. */
export type Cell = string | number;

/** One table of results, as a suite recorded it. */
export interface ResultSection {
  /** The bench file that recorded it (`strategies/comparison`). */
  suite: string;
  title: string;
  columns: string[];
  rows: Cell[][];
  /** Lines printed under the table (what a column means, what was skipped and why). */
  notes?: string[];
}

/** One run of one suite: when, with which preset, under what load, how long. */
export interface SuiteRun {
  suite: string;
  preset: string;
  date: string;
  /** 1/5/15-minute load averages at the end of the suite. */
  loadAverage: string;
  seconds: number;
}

/** `results/<machine>.json`: the machine, every suite's latest run and its tables. */
export interface ResultsFile {
  machine: MachineInfo;
  runs: SuiteRun[];
  sections: ResultSection[];
}

// Suites record into this module while run.ts runs them; run.ts takes the sections at the end.
let recorded: ResultSection[] = [];
let medians = new Map<string, number>();
let currentSuite = 'unknown';

/** Sets the suite that following records belong to (run.ts, before each file). */
export function beginSuite(suite: string): void {
  currentSuite = suite;
}

/** Adds a table to the results of the running suite. */
export function recordSection(section: Omit<ResultSection, 'suite'>): void {
  recorded.push({ suite: currentSuite, ...section });
}

/** Median (p50, else mean) of a finished tinybench task in ms, or NaN when it did not run. */
export function medianMs(bench: Bench, task: string): number {
  const latency = bench.getTask(task)?.result?.latency;
  return latency ? (latency.p50 ?? latency.mean) : Number.NaN;
}

/**
 * Records a finished Bench: one row per task with median, min and mean ms and the sample
 * count, and remembers each median for `--compare` under `<suite> | <task>`.
 */
export function recordBench(bench: Bench, notes?: string[]): void {
  const rows: Cell[][] = [];
  for (const task of bench.tasks) {
    const l = task.result?.latency;
    const med = l ? (l.p50 ?? l.mean) : Number.NaN;
    medians.set(`${currentSuite} | ${task.name}`, med);
    rows.push([task.name, fmt(med), l ? fmt(l.min) : 'n/a', l ? fmt(l.mean) : 'n/a', l ? l.samples.length : 0]);
  }
  recordSection({ title: bench.name ?? currentSuite, columns: ['task', 'median ms', 'min ms', 'mean ms', 'samples'], rows, ...(notes ? { notes } : {}) });
}

/** Remembers a median for `--compare` that no Bench measured (e.g. an externally timed row). */
export function recordMedian(task: string, ms: number): void {
  medians.set(`${currentSuite} | ${task}`, ms);
}

/** Takes (and clears) everything recorded since the last call. */
export function takeRecorded(): { sections: ResultSection[]; medians: Map<string, number> } {
  const out = { sections: recorded, medians };
  recorded = [];
  medians = new Map();
  return out;
}

/** A number for a table: 3 significant digits below 100, whole numbers above. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function cellText(c: Cell): string {
  // A pipe would end the cell and a newline the row.
  return String(c).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * A GitHub markdown table.
 *
 * @param columns - the header.
 * @param rows - the cells; a short row is padded with empty cells, a long one cut.
 * @returns the table, one line per row, ending with a newline.
 */
export function markdownTable(columns: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const line = (cells: readonly Cell[]): string => `| ${columns.map((_, i) => cellText(cells[i] ?? '')).join(' | ')} |`;
  return [line(columns), `|${columns.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n') + '\n';
}

/**
 * Merges a fresh run into an earlier results file: the suites that ran replace their old runs
 * and sections, the others stay, so running one suite alone keeps the rest of the file.
 */
export function mergeResults(old: ResultsFile | undefined, fresh: ResultsFile): ResultsFile {
  if (!old) return fresh;
  const ran = new Set(fresh.runs.map((r) => r.suite));
  const keep = <T extends { suite: string }>(xs: T[]): T[] => xs.filter((x) => !ran.has(x.suite));
  const bySuite = <T extends { suite: string }>(a: T, b: T): number => a.suite.localeCompare(b.suite);
  return {
    machine: fresh.machine,
    runs: [...keep(old.runs), ...fresh.runs].sort(bySuite),
    // Stable sort: a suite's own sections keep the order it recorded them in.
    sections: [...keep(old.sections), ...fresh.sections].sort(bySuite),
  };
}

/** The markdown report of a results file: machine, runs, then every section. */
export function toMarkdown(file: ResultsFile): string {
  const m = file.machine;
  const parts = [
    `# patchcert benchmarks: ${m.name}\n`,
    'Written by `pnpm bench` (benchmarks/src/run.ts); the JSON beside this file holds the same tables.\n',
    markdownTable(
      ['cpu', 'cores', 'memory', 'os', 'node', 'tfjs', 'patchcert'],
      [[m.cpuModel, m.cores, `${m.memoryGiB} GiB`, m.os, m.node, m.tfjs, m.patchcert]],
    ),
    '## Runs\n',
    markdownTable(
      ['suite', 'preset', 'date (UTC)', 'load average 1/5/15 min at end', 'seconds'],
      file.runs.map((r) => [r.suite, r.preset, r.date, r.loadAverage, r.seconds.toFixed(0)]),
    ),
    `Sum of the runs above: ${file.runs.reduce((t, r) => t + r.seconds, 0).toFixed(0)} s (the process; \`turbo run bench\` adds the dependencies' build).\n`,
  ];
  for (const s of file.sections) {
    parts.push(`## ${s.suite}: ${s.title}\n`, markdownTable(s.columns, s.rows));
    if (s.notes?.length) parts.push(s.notes.map((n) => `- ${n}`).join('\n') + '\n');
  }
  return parts.join('\n');
}

/** The cells of one markdown table line (escaped pipes are content). */
function tableCells(line: string): string[] {
  return line
    .slice(2, -2)
    .split(/ \| /)
    .map((c) => c.replace(/\\\|/g, '|'));
}

/**
 * Reads a results file back from its markdown report ({@link toMarkdown}'s layout). The JSON is
 * not committed, so on a fresh checkout the committed .md is the only record of the suites that
 * did not run; without this, running one suite would drop every other suite's tables. Cells come
 * back as text, which is how the report shows them.
 *
 * @returns undefined when the text is not such a report.
 */
export function fromMarkdown(text: string): ResultsFile | undefined {
  const blocks = text.split(/\n(?=## )/);
  const head = blocks[0]!.split('\n');
  const machineRow = head.find((l, i) => l.startsWith('| ') && head[i - 2]?.startsWith('| cpu |'));
  const name = /^# patchcert benchmarks: (.+)$/.exec(head[0] ?? '')?.[1];
  if (!machineRow || !name) return undefined;
  const [cpuModel, cores, memory, os, node, tfjs, patchcert] = tableCells(machineRow);
  const file: ResultsFile = {
    machine: { name, cpuModel: cpuModel!, cores: Number(cores), memoryGiB: Number.parseFloat(memory!), os: os!, node: node!, tfjs: tfjs!, patchcert: patchcert! },
    runs: [],
    sections: [],
  };
  for (const block of blocks.slice(1)) {
    const lines = block.split('\n');
    const rows = lines.filter((l) => l.startsWith('| ')).map(tableCells);
    if (lines[0] === '## Runs') {
      for (const [suite, preset, date, loadAverage, seconds] of rows.slice(1)) file.runs.push({ suite: suite!, preset: preset!, date: date!, loadAverage: loadAverage!, seconds: Number(seconds) });
      continue;
    }
    const title = /^## ([^:]+): (.*)$/.exec(lines[0]!);
    if (!title || rows.length === 0) continue;
    const notes = lines.filter((l) => l.startsWith('- ')).map((l) => l.slice(2));
    file.sections.push({ suite: title[1]!, title: title[2]!, columns: rows[0]!, rows: rows.slice(1), ...(notes.length ? { notes } : {}) });
  }
  return file;
}

/** Reads `dir/<name>.json` if it is there and parses; else the committed `dir/<name>.md` ({@link fromMarkdown}). */
export function readResults(dir: string, name: string): ResultsFile | undefined {
  const path = join(dir, `${name}.json`);
  if (!existsSync(path)) {
    const md = join(dir, `${name}.md`);
    return existsSync(md) ? fromMarkdown(readFileSync(md, 'utf8')) : undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
  } catch {
    // A truncated file from a killed run: start over rather than fail the benchmark.
    return undefined;
  }
}

/**
 * Writes `dir/<machine>.json` and `dir/<machine>.md`, merged over what an earlier run left.
 * @returns the two paths.
 */
export function writeResults(dir: string, fresh: ResultsFile): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const merged = mergeResults(readResults(dir, fresh.machine.name), fresh);
  const json = join(dir, `${fresh.machine.name}.json`);
  const md = join(dir, `${fresh.machine.name}.md`);
  writeFileSync(json, JSON.stringify(merged, null, 2) + '\n');
  writeFileSync(md, toMarkdown(merged));
  return { json, md };
}
