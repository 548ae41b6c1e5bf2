import { PcIntervalRelu, PcIntervalReluGrad } from '../../kernel-names.js';
import { hostKernelConfig } from '../host-kernel.js';
import { intervalReluGradLoop, intervalReluLoop } from '../interval-relu-loops.js';

/** cpu `PcIntervalRelu`: the fused ReLU interval rule as one host loop (see kernel-names.ts). */
export const intervalReluConfig = hostKernelConfig(PcIntervalRelu, 'cpu', ['mu', 'r'], 2, intervalReluLoop);

/** cpu `PcIntervalReluGrad`: the gradient of `PcIntervalRelu` as one host loop. */
export const intervalReluGradConfig = hostKernelConfig(PcIntervalReluGrad, 'cpu', ['mu', 'r', 'dMu', 'dR'], 2, intervalReluGradLoop);
