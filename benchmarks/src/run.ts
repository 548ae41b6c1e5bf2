// Runs patchcert's benchmarks: every `*.bench.ts` under src/ (or only those named on the command
// line), one after another in this process. Each file exports `run(preset, options)`.
//
//   pnpm --filter @patchcert/benchmarks bench [--preset quick|full] [--compare key=a,b]
//                                             [--machine NAME] [--timings-only] [name …]
//
// A name selects the files whose path under src/ (without `.bench.ts`) equals it or ends with
// it: `backend/kernels` or `kernels`. The preset defaults to PATCHCERT_BENCH_PRESET, else quick.
// Tables also go to benchmarks/results/<machine>.json and .md, merged over an earlier run.
// `--compare backend=wasm,cpu` (or `method=fast,naive`) runs the selected suites under each value
// and prints per-task ratios of the medians.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { env, PatchcertError, toBackendName, toPatchcertError } from '@patchcert/backend';
import type { BoundMethod } from '@patchcert/bounds';
import { BENCH_PRESETS, type BenchPreset } from './internal/preset.js';
import type { BenchRunOptions } from './internal/options.js';
import { geometricMean, parseCompare, ratioRows, type CompareSpec } from './internal/compare.js';
import { loadAverage, machineInfo } from './internal/machine.js';
import { beginSuite, fmt, recordSection, takeRecorded, writeResults, type ResultSection, type SuiteRun } from './internal/results.js';

const SRC = dirname(fileURLToPath(import.meta.url));
// Under tsx the sources run; from dist the compiled files do.
const SUFFIX = import.meta.url.endsWith('.ts') ? '.bench.ts' : '.bench.js';
const RESULTS_DIR = join(SRC, '..', 'results');

/** A benchmark file: its name (path under src/ without the suffix) and location. */
interface BenchFile {
  name: string;
  path: string;
}

type RunFn = (preset: BenchPreset, options: BenchRunOptions) => Promise<void>;

function findBenchFiles(dir: string): BenchFile[] {
  const out: BenchFile[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findBenchFiles(path));
    else if (entry.endsWith(SUFFIX)) out.push({ name: relative(SRC, path).slice(0, -SUFFIX.length).split(sep).join('/'), path });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function toPreset(v: string): BenchPreset {
  if ((BENCH_PRESETS as readonly string[]).includes(v)) return v as BenchPreset;
  throw new PatchcertError('INVALID_OPTION', `Error in bench: --preset must be one of ${BENCH_PRESETS.join(', ')}, but got '${v}'.`);
}

function select(files: BenchFile[], names: string[]): BenchFile[] {
  if (names.length === 0) return files;
  return names.map((n) => {
    const hit = files.find((f) => f.name === n || f.name.endsWith(`/${n}`));
    if (hit === undefined) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in bench: a benchmark name must be one of ${files.map((f) => f.name).join(', ')}, but got '${n}'.`,
      );
    }
    return hit;
  });
}

/** The options one side of a `--compare` runs with. */
function optionsFor(spec: CompareSpec, value: string): BenchRunOptions {
  if (spec.key === 'backend') return { backends: [toBackendName(value)], timingsOnly: true };
  if (value !== 'fast' && value !== 'naive') {
    throw new PatchcertError('INVALID_OPTION', `Error in bench: --compare method values must be fast or naive, but got '${value}'.`);
  }
  return { method: value as BoundMethod, timingsOnly: true };
}

async function loadRun(file: BenchFile): Promise<RunFn> {
  const mod = (await import(pathToFileURL(file.path).href)) as { run?: unknown };
  if (typeof mod.run !== 'function') {
    throw new PatchcertError(
      'INVALID_ARGUMENT',
      `Error in bench: ${file.name}${SUFFIX} must export an async function run(preset, options), but got ${typeof mod.run}.`,
    );
  }
  return mod.run as RunFn;
}

/** Runs the files in order; returns each one's run record and everything they recorded. */
async function runFiles(files: BenchFile[], preset: BenchPreset, options: BenchRunOptions, tag: string) {
  const runs: SuiteRun[] = [];
  for (const file of files) {
    const run = await loadRun(file);
    console.log(`\n# ${file.name} (${preset}${tag})`);
    beginSuite(file.name);
    const t0 = performance.now();
    await run(preset, options);
    const seconds = (performance.now() - t0) / 1000;
    runs.push({ suite: file.name, preset: preset + tag, date: new Date().toISOString().slice(0, 16).replace('T', ' '), loadAverage: loadAverage(), seconds });
    console.log(`# ${file.name} done in ${seconds.toFixed(1)} s (load average ${loadAverage()})`);
  }
  return { runs, ...takeRecorded() };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      preset: { type: 'string' },
      compare: { type: 'string' },
      machine: { type: 'string' },
      'timings-only': { type: 'boolean' },
    },
    allowPositionals: true,
  });
  const preset = toPreset(values.preset ?? env.benchPreset);
  const files = select(findBenchFiles(SRC), positionals);
  const machine = machineInfo(values.machine);
  const t0 = performance.now();
  let runs: SuiteRun[];
  let sections: ResultSection[];
  if (values.compare === undefined) {
    ({ runs, sections } = await runFiles(files, preset, values['timings-only'] ? { timingsOnly: true } : {}, ''));
  } else {
    const spec = parseCompare(values.compare);
    const [a, b] = spec.values;
    const first = await runFiles(files, preset, optionsFor(spec, a), `, ${spec.key}=${a}`);
    const second = await runFiles(files, preset, optionsFor(spec, b), `, ${spec.key}=${b}`);
    const ratios = ratioRows(first.medians, second.medians);
    const title = `${spec.key}=${a} vs ${spec.key}=${b}: median ms and ${a} / ${b}`;
    console.log(`\n# compare ${title} (above 1: ${a} is slower)`);
    console.table(Object.fromEntries(ratios.map((r) => [r.task, { [`${a} ms`]: fmt(r.a), [`${b} ms`]: fmt(r.b), [`${a} / ${b}`]: fmt(r.ratio) }])));
    const gm = geometricMean(ratios.map((r) => r.ratio));
    console.log(`geometric mean of ${ratios.length} ratios: ${fmt(gm)}`);
    // The file keeps the ratio table of a compare run, under its own suite name; the per-value
    // tables are on the console.
    beginSuite(`compare ${spec.key}=${a},${b}`);
    recordSection({
      title,
      columns: ['task', `${a} ms`, `${b} ms`, `${a} / ${b}`],
      rows: ratios.map((r) => [r.task, fmt(r.a), fmt(r.b), fmt(r.ratio)]),
      notes: [`geometric mean of ${ratios.length} ratios: ${fmt(gm)}; ${a} ran first, then ${b}, in one process.`],
    });
    sections = takeRecorded().sections;
    runs = [{ suite: `compare ${spec.key}=${a},${b}`, preset, date: new Date().toISOString().slice(0, 16).replace('T', ' '), loadAverage: loadAverage(), seconds: (performance.now() - t0) / 1000 }];
  }
  const total = (performance.now() - t0) / 1000;
  const { json, md } = writeResults(RESULTS_DIR, { machine, runs, sections });
  console.log(`\n# all done in ${total.toFixed(0)} s (load average ${loadAverage()}); results in ${relative(process.cwd(), json)} and ${relative(process.cwd(), md)}`);
}

main().catch((err: unknown) => {
  const e = toPatchcertError(err);
  console.error(`${e.code}: ${e.message}`);
  process.exitCode = 1;
});
