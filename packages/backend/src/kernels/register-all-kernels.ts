// Registers patchcert's kernels. On wasm: the ones stock tfjs-backend-wasm 4.22 lacks and IBP
// training needs (Conv2DBackpropFilter, UnsortedSegmentSum), faster replacements for slow stock
// paths (Add/Sub/Multiply/RealDiv with a per-channel operand, AvgPoolGrad, BatchMatMul with transposes, Cast and Transpose without a copy when the data
// keeps its order, Conv2D and FusedConv2D for few output channels, Conv2DBackpropInput, GatherV2 on axis 0, Identity without a copy, MaxPoolGrad,
// ResizeBilinearGrad, Slice as block copies, Sum over leading axes) and patchcert's own kernels (PcIntervalRelu and its
// gradient, and PcGatherRuns and its gradient PcScatterAddRuns for bounds' region copies,
// PcReluElidedMargins, PcWindowSums and PcWindowReluMargins for certification's MLP path,
// PcReluDenseReluMargins and PcDenseTailMargins for the CNNs' dense tail, PcGumbelTopK for guided
// sampling's draw). On cpu: patchcert's
// own kernels. The imports are explicit so the lists read as the set of kernels patchcert
// changes. Imported only by initBackend.
import { tf } from '../tf.js';
import { avgPoolGradConfig } from './wasm/AvgPoolGrad.js';
import { addConfig, multiplyConfig, realDivConfig, subConfig } from './wasm/ChannelBroadcast.js';
import { batchMatMulConfig } from './wasm/BatchMatMul.js';
import { castConfig } from './wasm/Cast.js';
import { gatherV2Config } from './wasm/GatherV2.js';
import { maxPoolGradConfig } from './wasm/MaxPoolGrad.js';
import { resizeBilinearGradConfig } from './wasm/ResizeBilinearGrad.js';
import { identityConfig } from './wasm/Identity.js';
import { sliceConfig } from './wasm/Slice.js';
import { sumConfig } from './wasm/Sum.js';
import { transposeConfig } from './wasm/Transpose.js';
import { conv2DConfig, fusedConv2DConfig } from './wasm/Conv2D.js';
import { conv2DBackpropFilterConfig } from './wasm/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './wasm/Conv2DBackpropInput.js';
import { unsortedSegmentSumConfig } from './wasm/UnsortedSegmentSum.js';
import { intervalReluConfig as wasmIntervalReluConfig, intervalReluGradConfig as wasmIntervalReluGradConfig } from './wasm/IntervalRelu.js';
import { intervalReluConfig as cpuIntervalReluConfig, intervalReluGradConfig as cpuIntervalReluGradConfig } from './cpu/IntervalRelu.js';
import { gatherRunsWasmConfig, gatherRunsCpuConfig, scatterAddRunsWasmConfig, scatterAddRunsCpuConfig } from './gather-runs.js';
import { reluElidedMarginsCpuConfig, reluElidedMarginsWasmConfig } from './relu-elided-margins.js';
import { windowSumsCpuConfig, windowSumsWasmConfig } from './window-sums.js';
import { windowReluMarginsCpuConfig, windowReluMarginsWasmConfig } from './window-relu-margins.js';
import { reluDenseReluMarginsCpuConfig, reluDenseReluMarginsWasmConfig } from './relu-dense-relu-margins.js';
import { denseTailMarginsCpuConfig, denseTailMarginsWasmConfig } from './dense-tail-margins.js';
import { gumbelTopKCpuConfig, gumbelTopKWasmConfig } from './gumbel-top-k.js';
import { registerGradients } from '../gradients/register-all-gradients.js';
import {
  WASM_BACKEND_NAME,
  isPatchcertKernel,
  markPatchcertKernel,
  rememberStock,
  stockConfig,
} from './wasm/wasm-backend.js';

/** Every patchcert wasm kernel, in registration order. */
export const WASM_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  addConfig,
  avgPoolGradConfig,
  batchMatMulConfig,
  castConfig,
  conv2DConfig,
  fusedConv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  gatherV2Config,
  identityConfig,
  maxPoolGradConfig,
  multiplyConfig,
  realDivConfig,
  resizeBilinearGradConfig,
  sliceConfig,
  subConfig,
  sumConfig,
  transposeConfig,
  unsortedSegmentSumConfig,
  wasmIntervalReluConfig,
  wasmIntervalReluGradConfig,
  gatherRunsWasmConfig,
  scatterAddRunsWasmConfig,
  reluElidedMarginsWasmConfig,
  windowSumsWasmConfig,
  windowReluMarginsWasmConfig,
  reluDenseReluMarginsWasmConfig,
  denseTailMarginsWasmConfig,
  gumbelTopKWasmConfig,
];

/** Every patchcert cpu kernel (the fused ones; stock tfjs-backend-cpu has the rest). */
export const CPU_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [cpuIntervalReluConfig, cpuIntervalReluGradConfig, gatherRunsCpuConfig, scatterAddRunsCpuConfig, reluElidedMarginsCpuConfig, windowSumsCpuConfig, windowReluMarginsCpuConfig, reluDenseReluMarginsCpuConfig, denseTailMarginsCpuConfig, gumbelTopKCpuConfig];

/** Registers every patchcert cpu kernel and the gradients. Safe to call more than once. */
export function registerCpuKernels(): void {
  for (const config of CPU_KERNEL_CONFIGS) {
    if (tf.getKernel(config.kernelName, config.backendName) === config) continue;
    if (tf.getKernel(config.kernelName, config.backendName) !== undefined) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
  registerGradients();
}

/**
 * Registers every patchcert wasm kernel, replacing the stock ones of the same name (the originals
 * are kept for the paths the replacements delegate to). Safe to call more than once.
 * `initBackend('wasm')` calls it; call it yourself only after importing
 * `@tensorflow/tfjs-backend-wasm` (which registers the stock kernels) and, best, before the wasm
 * backend first starts, so the stock setup the replacements reuse runs at start-up.
 */
export function registerWasmKernels(): void {
  registerGradients();
  for (const config of WASM_KERNEL_CONFIGS) {
    markPatchcertKernel(config);
    const existing = tf.getKernel(config.kernelName, WASM_BACKEND_NAME);
    if (existing === config) continue;
    if (existing !== undefined) {
      if (!isPatchcertKernel(existing)) rememberStock(existing);
      tf.unregisterKernel(config.kernelName, WASM_BACKEND_NAME);
    }
    tf.registerKernel(config);
  }
}

/**
 * Puts the stock tfjs-backend-wasm kernels back where patchcert replaced them (AvgPoolGrad,
 * Add, BatchMatMul, Cast, Conv2D, Conv2DBackpropInput, FusedConv2D, GatherV2, Identity, MaxPoolGrad, Multiply, RealDiv, ResizeBilinearGrad, Slice, Sub, Sum, Transpose), for A/B benchmarks; the kernels stock wasm lacks stay registered.
 * {@link registerWasmKernels} switches back.
 */
export function restoreStockWasmKernels(): void {
  for (const config of WASM_KERNEL_CONFIGS) {
    const current = tf.getKernel(config.kernelName, WASM_BACKEND_NAME);
    if (current !== config) continue;
    const stock = stockConfig(config.kernelName);
    if (stock === undefined) continue;
    tf.unregisterKernel(config.kernelName, WASM_BACKEND_NAME);
    tf.registerKernel(stock);
  }
}
