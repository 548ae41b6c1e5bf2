import type { BenchOptions } from 'tinybench';

/** How long benchmarks run: `quick` (the whole suite in about two minutes) or `full`. */
export type BenchPreset = 'quick' | 'full';

/** The presets, for argument checking. */
export const BENCH_PRESETS: readonly BenchPreset[] = ['quick', 'full'];

/**
 * tinybench options for a preset. tinybench runs a task until both `time` and `iterations` are
 * reached, so `iterations` stays small: one matmul on tfjs-cpu takes about a second.
 *
 * @param preset - `quick` or `full`.
 * @param name - the Bench name, `<package>/<concept> <backend>`.
 * @returns options for `new Bench(…)`; `throws: true` so a failing task fails the run.
 */
export function benchOptions(preset: BenchPreset, name: string): BenchOptions {
  return preset === 'quick'
    ? { name, time: 250, iterations: 2, warmup: true, warmupTime: 0, warmupIterations: 1, throws: true }
    : { name, time: 2000, iterations: 10, warmup: true, warmupTime: 200, warmupIterations: 3, throws: true };
}
