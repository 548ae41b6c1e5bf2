import { homedir } from 'node:os';
import { join } from 'node:path';
import { PatchcertError } from './errors.js';

/** Names of the compute backends patchcert can start. */
export type BackendName = 'wasm' | 'cpu' | 'node' | 'cuda';
export const BACKEND_NAMES: readonly BackendName[] = ['wasm', 'cpu', 'node', 'cuda'];

/** Runtime flags of patchcert. This is the only module that reads `process.env`. */
export interface PatchcertEnv {
  /**
   * Backend used when `initBackend()` gets no name. Read from `PATCHCERT_BACKEND`.
   * Takes effect at the next `initBackend()` call.
   * @defaultValue 'wasm'
   */
  backend: BackendName;
  /**
   * Check `lower <= upper` and NaN after every bound op (slow; for debugging unsound bounds).
   * Read from `PATCHCERT_DEBUG=1`.
   * @defaultValue false
   */
  debug: boolean;
  /**
   * Worker threads for data-parallel work (certification). Read from `PATCHCERT_WORKERS`.
   * @defaultValue 1
   */
  workers: number;
  /**
   * Threads of the wasm backend's kernels (XNNPACK's pool; matmuls, convolutions). Read from
   * `PATCHCERT_THREADS`. Takes effect at the next `initBackend()` that starts wasm.
   * @defaultValue 1
   */
  threads: number;
  /**
   * Let patchcert's wasm conv loops use fused multiply-adds (WebAssembly relaxed SIMD) where the
   * engine has them; on Node 20 `initBackend('wasm')` turns on V8's
   * `--experimental-wasm-relaxed-simd` for that. Results then differ from plain SIMD by float
   * rounding only. Read from `PATCHCERT_RELAXED_SIMD` (`0` turns it off). Takes effect when a
   * wasm backend's module is next instantiated (the next `initBackend`).
   * @defaultValue true
   */
  relaxedSimd: boolean;
  /** Log level for progress and diagnostics. @defaultValue 'info' */
  logLevel: 'silent' | 'info' | 'debug';
  /**
   * Directory for caches of decoded datasets. Read from `PATCHCERT_CACHE_DIR`.
   * @defaultValue `~/.cache/patchcert`
   */
  cacheDir: string;
  /**
   * Benchmark preset of `pnpm bench` when no `--preset` is given: `quick` (short runs, a couple
   * of minutes in all) or `full`. Read from `PATCHCERT_BENCH_PRESET`. Takes effect when the
   * benchmark runner starts.
   * @defaultValue 'quick'
   */
  benchPreset: 'quick' | 'full';
}

function parseBackend(v: string | undefined): BackendName {
  if (v === undefined || v === '') return 'wasm';
  if ((BACKEND_NAMES as readonly string[]).includes(v)) return v as BackendName;
  throw new PatchcertError(
    'INVALID_OPTION',
    `Error in env: PATCHCERT_BACKEND must be one of ${BACKEND_NAMES.join(', ')}, but got '${v}'.`,
  );
}

function parseLogLevel(v: string | undefined): PatchcertEnv['logLevel'] {
  if (v === undefined || v === '') return 'info';
  if (v === 'silent' || v === 'info' || v === 'debug') return v;
  throw new PatchcertError('INVALID_OPTION', `Error in env: PATCHCERT_LOG_LEVEL must be silent, info or debug, but got '${v}'.`);
}

function parseBenchPreset(v: string | undefined): PatchcertEnv['benchPreset'] {
  if (v === undefined || v === '') return 'quick';
  if (v === 'quick' || v === 'full') return v;
  throw new PatchcertError('INVALID_OPTION', `Error in env: PATCHCERT_BENCH_PRESET must be quick or full, but got '${v}'.`);
}

function parseSwitch(name: string, v: string | undefined): boolean {
  if (v === undefined || v === '' || v === '1') return true;
  if (v === '0') return false;
  throw new PatchcertError('INVALID_OPTION', `Error in env: ${name} must be 0 or 1, but got '${v}'.`);
}

function parseCount(name: string, v: string | undefined): number {
  if (v === undefined || v === '') return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new PatchcertError('INVALID_OPTION', `Error in env: ${name} must be an integer >= 1, but got '${v}'.`);
  }
  return n;
}

/** The process-wide flags, initialised from environment variables once at import. */
export const env: PatchcertEnv = {
  backend: parseBackend(process.env['PATCHCERT_BACKEND']),
  debug: process.env['PATCHCERT_DEBUG'] === '1',
  workers: parseCount('PATCHCERT_WORKERS', process.env['PATCHCERT_WORKERS']),
  threads: parseCount('PATCHCERT_THREADS', process.env['PATCHCERT_THREADS']),
  relaxedSimd: parseSwitch('PATCHCERT_RELAXED_SIMD', process.env['PATCHCERT_RELAXED_SIMD']),
  logLevel: parseLogLevel(process.env['PATCHCERT_LOG_LEVEL']),
  cacheDir: process.env['PATCHCERT_CACHE_DIR'] || join(homedir(), '.cache', 'patchcert'),
  benchPreset: parseBenchPreset(process.env['PATCHCERT_BENCH_PRESET']),
};

/** Validates a backend name from a CLI flag or config. */
export function toBackendName(v: string): BackendName {
  return parseBackend(v);
}
