/**
 * @packageDocumentation
 * `@patchcert/backend`: the ground every patchcert package stands on. It starts a tfjs compute
 * backend (wasm by default, cpu, tfjs-node, tfjs-node-gpu) and fails loudly when it cannot,
 * completes wasm with the kernels IBP training needs, and holds the shared pieces: the one tfjs
 * instance, the error class, the seeded generator, the `op()` wrapper and the runtime flags.
 */

// #region tfjs
export { tf } from './tf.js';
export { op } from './op.js';
// #endregion

// #region backends
export { initBackend, currentBackend, describeBackend } from './backend-impl.js';
export type { BackendInfo, InitBackendOptions } from './backend-impl.js';
export { env, toBackendName, BACKEND_NAMES } from './env.js';
export type { BackendName, PatchcertEnv } from './env.js';
// #endregion

// #region fused IBP ops (kernels PcIntervalRelu… on wasm and cpu, stock ops elsewhere)
export { intervalReluBox } from './ops/interval-relu-box.js';
export type { CenterRadiusBox } from './ops/interval-relu-box.js';
export { reluElidedMargins } from './ops/relu-elided-margins.js';
export { windowSums } from './ops/window-sums.js';
export { windowReluMargins } from './ops/window-relu-margins.js';
export { reluDenseReluMargins } from './ops/relu-dense-relu-margins.js';
export { denseTailMargins } from './ops/dense-tail-margins.js';
export { gumbelTopK, type RandomWords } from './ops/gumbel-top-k.js';
export { gumbelTopKLoop, gumbelOf } from './kernels/gumbel-top-k.js';
export { PcIntervalRelu, PcIntervalReluGrad, PcReluElidedMargins, PcWindowSums, PcWindowReluMargins, PcReluDenseReluMargins, PcDenseTailMargins, PcGumbelTopK } from './kernel-names.js';
export { PcGatherRuns, PcScatterAddRuns } from './kernels/gather-runs.js';
export type { PcIntervalReluInputs, PcIntervalReluAttrs, PcIntervalReluGradInputs, PcIntervalReluGradAttrs, PcReluElidedMarginsInputs, PcReluElidedMarginsAttrs, PcWindowSumsInputs, PcWindowSumsAttrs, PcWindowReluMarginsInputs, PcWindowReluMarginsAttrs, PcReluDenseReluMarginsInputs, PcDenseTailMarginsInputs, PcGumbelTopKInputs, PcGumbelTopKAttrs } from './kernel-names.js';
// #endregion

// #region wasm kernels (initBackend('wasm') registers them; these are for A/B benchmarks)
export { registerWasmKernels, restoreStockWasmKernels, registerCpuKernels } from './kernels/register-all-kernels.js';
// #endregion

// #region errors and randomness
export { PatchcertError, assert, check, mustBe, toPatchcertError } from './errors.js';
export type { PatchcertErrorCode } from './errors.js';
export { Rng } from './rng.js';
export type { RngState } from './rng.js';
// #endregion

// #region normalization
export { normalizeImages, identityNormalization, isIdentityNormalization } from './normalization.js';
export type { Normalization } from './normalization.js';
// #endregion
