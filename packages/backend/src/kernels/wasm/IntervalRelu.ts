import { PcIntervalRelu, PcIntervalReluGrad } from '../../kernel-names.js';
import { hostKernelConfig } from '../host-kernel.js';
import { intervalReluGradLoop, intervalReluLoop } from '../interval-relu-loops.js';

/** wasm `PcIntervalRelu`: the fused ReLU interval rule as one host loop (see kernel-names.ts). */
export const intervalReluConfig = hostKernelConfig(PcIntervalRelu, 'wasm', ['mu', 'r'], 2, intervalReluLoop);

/** wasm `PcIntervalReluGrad`: the gradient of `PcIntervalRelu` as one host loop. */
export const intervalReluGradConfig = hostKernelConfig(PcIntervalReluGrad, 'wasm', ['mu', 'r', 'dMu', 'dR'], 2, intervalReluGradLoop);
