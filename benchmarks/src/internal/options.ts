import type { BackendName } from '@patchcert/backend';
import type { BoundMethod } from '@patchcert/bounds';

/**
 * What `run.ts` passes every bench file besides the preset. A suite that measures one backend
 * uses the first of `backends` (else its own default); suites that bound patches use `method`
 * where a strategy or `certify` takes one. `--compare` sets these per run.
 */
export interface BenchRunOptions {
  /** Backends to measure on. @defaultValue each suite's own (every backend that starts, or wasm) */
  backends?: readonly BackendName[];
  /** bounds' method for strategies and certify calls that take one. @defaultValue 'fast' */
  method?: BoundMethod;
  /** Leave out work that is not a timing (the short-budget training runs). @defaultValue false */
  timingsOnly?: boolean;
}
