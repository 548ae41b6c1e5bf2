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

/**
 * The ReLU interval rule followed by the last dense layer merged with the margin matrix
 * C = e_y − e_j ("elision"), fused, without gradients (certification). Rows are (image b,
 * location l): the hidden layer's center is `base[b] + delta[b, l]`, its radius `rad[b, l]`;
 * output `[batch, count, classes]` holds, for locations `[start, start + count)`,
 * Σ_i μ'_i·(W[i,y] − W[i,j]) − r'_i·|W[i,y] − W[i,j]| + b_y − b_j with (μ', r') the ReLU box and
 * exactly 0 in the y slot. Units inactive over the whole box (μ + r ≤ 0) are skipped.
 */
export const PcReluElidedMargins = 'PcReluElidedMargins';
/**
 * Inputs of {@link PcReluElidedMargins}: `delta` `[batch, total, units]`, `base` `[batch, units]`,
 * `rad` `[batch, total, units]` or one image's `[1, total, units]` (shared by every image),
 * `kernel` `[units, classes]` and `bias` `[classes]` of the last layer (float32), `labels`
 * `[batch]` int32, `locs` int32 location indices in `[0, total)`: `[batch, count]`, or `[1, count]`
 * for the same locations in every image.
 */
export type PcReluElidedMarginsInputs = Pick<tf.NamedTensorInfoMap, 'delta' | 'base' | 'rad' | 'kernel' | 'bias' | 'labels' | 'locs'>;
/** {@link PcReluElidedMargins} has no attributes. */
export type PcReluElidedMarginsAttrs = Record<string, never>;

/**
 * A dense layer's term over windows of its input: for window q of image b, whose first feature is
 * o = origins[b, q], output `[batch, count, units]` holds Σ_t coef[b, o + taps[t]] · weights[o + taps[t], :],
 * `taps` being the feature offsets of the window's pixels and channels. bounds' MLP fast path: the
 * first layer's center change (coef = box center − clean value) and radius (coef = box radius,
 * weights = |kernel|) at patch locations, without the per-pixel products tfjs would materialize.
 */
export const PcWindowSums = 'PcWindowSums';
/**
 * Inputs of {@link PcWindowSums}: `coef` `[batch, features]` (or `[1, features]` for every image),
 * `weights` `[features, units]` (float32), `origins` int32 `[batch, count]` (or `[1, count]` for
 * every image); batch is the larger of the two first dimensions.
 */
export type PcWindowSumsInputs = Pick<tf.NamedTensorInfoMap, 'coef' | 'weights' | 'origins'>;
/** Attributes of {@link PcWindowSums}: the window's feature offsets from its first feature. */
export interface PcWindowSumsAttrs {
  taps: number[];
}
