// The contract of patchcert's custom kernels: one name constant (a `Pc` prefix keeps it clear of
// tfjs's names), the named tensor inputs and the attributes of each. Ops, backends and gradients
// import these symbols, so a misspelled kernel name fails to compile.
import type { tf } from './tf.js';

/**
 * The interval rule of ReLU on a center/radius box, fused: with l = max(μ−r, 0) and
 * u = max(μ+r, 0), outputs `[μ', r'] = [(u+l)/2, (u−l)/2]`, elementwise, float32, any shape
 * (μ and r of one shape). Bit-identical to the composite relu/add/sub/mul formulation.
 */
export const PcIntervalRelu = 'PcIntervalRelu';
/** Inputs of {@link PcIntervalRelu}: center `mu` and radius `r`, same shape. */
export type PcIntervalReluInputs = Pick<tf.NamedTensorInfoMap, 'mu' | 'r'>;
/** {@link PcIntervalRelu} has no attributes. */
export type PcIntervalReluAttrs = Record<string, never>;

/**
 * The gradient of {@link PcIntervalRelu}: given the box (`mu`, `r`) and the upstream gradients
 * `dMu`, `dR` of its two outputs, outputs `[gMu, gR]` with gu = (dMu+dR)/2 where μ+r > 0 (else
 * 0), gl = (dMu−dR)/2 where μ−r > 0 (else 0), gMu = gu + gl, gR = gu − gl: what tfjs's own
 * gradients of the composite give, bit for bit (relu's gradient is 0 at exactly 0).
 */
export const PcIntervalReluGrad = 'PcIntervalReluGrad';
/** Inputs of {@link PcIntervalReluGrad}, all of one shape. */
export type PcIntervalReluGradInputs = Pick<tf.NamedTensorInfoMap, 'mu' | 'r' | 'dMu' | 'dR'>;
/** {@link PcIntervalReluGrad} has no attributes. */
export type PcIntervalReluGradAttrs = Record<string, never>;
