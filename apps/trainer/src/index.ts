/**
 * @packageDocumentation
 * `trainer`: the patchcert training CLI (`pnpm --filter trainer start`). The CLI lives in
 * `main.ts`; this entry point exposes the same pieces to scripts and tests.
 */

// #region commands
export { runTrain, resolveConfig, configureTrainCommand } from './commands/train.js';
export type { TrainCommandOptions } from './commands/train.js';
export { DEFAULT_CONFIG, DEFAULT_OUT } from './default-config.js';
// #endregion

// #region rendering
export { progressRenderer } from './progress.js';
export type { ProgressSink } from './progress.js';
export { formatSummary } from './summary.js';
// #endregion
