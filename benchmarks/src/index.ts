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
