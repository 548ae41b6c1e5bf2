/**
 * @packageDocumentation
 * `@patchcert/benchmarks`: tinybench suites for patchcert, run by `src/run.ts` (`pnpm bench`).
 * The helpers below are what every `*.bench.ts` file builds on.
 */

// #region helpers for bench files
export { benchOptions, BENCH_PRESETS } from './internal/preset.js';
export type { BenchPreset } from './internal/preset.js';
export { startableBackends } from './internal/backends.js';
export type { StartedBackend } from './internal/backends.js';
export { sideBySide } from './internal/side-by-side.js';
// #endregion

// #region results and comparison (run.ts writes results/<machine>.json and .md)
export { recordBench, recordSection, recordMedian, markdownTable, mergeResults, toMarkdown, fromMarkdown, writeResults } from './internal/results.js';
export type { ResultSection, ResultsFile, SuiteRun, Cell } from './internal/results.js';
export { parseCompare, ratioRows, geometricMean } from './internal/compare.js';
export type { CompareSpec, CompareKey, RatioRow } from './internal/compare.js';
export { machineInfo } from './internal/machine.js';
export type { MachineInfo } from './internal/machine.js';
export type { BenchRunOptions } from './internal/options.js';
// #endregion
