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
 * location l): the hidden layer's center is `μ = base[b] + delta[b, l]`, its radius
 * `r = rad[b, l]`; output `[batch, count, classes]` holds, at locations `locs[b, q]`,
 * Σ_i lo_i·max(D_ij, 0) + hi_i·min(D_ij, 0) + b_y − b_j with D_ij = W[i,y] − W[i,j] and
 * [lo, hi] = [max(μ − r, 0), max(μ + r, 0)] the ReLU box, and exactly 0 in the y slot.
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

/**
 * {@link PcReluElidedMargins} at windows, with each row's hidden center change and radius summed
 * from its window as {@link PcWindowSums} would (one pass; no [batch, count, units] tensors):
 * row q of image b, first feature o = origins[b, q], has delta = Σ_t coef[b, o+t]·weights[o+t, :]
 * and rad = Σ_t radCoef[b, o+t]·absWeights[o+t, :]. bounds' MLP fast path for one hidden layer.
 */
export const PcWindowReluMargins = 'PcWindowReluMargins';
/**
 * Inputs of {@link PcWindowReluMargins}: `coef`, `radCoef` `[batch, features]` (or `[1, features]`
 * for every image), `weights`, `absWeights` `[features, units]`, `origins` int32 `[batch, count]`
 * (or `[1, count]`), `base` `[batch, units]`, `kernel` `[units, classes]`, `bias` `[classes]`,
 * `labels` int32 `[batch]`.
 */
export type PcWindowReluMarginsInputs = Pick<tf.NamedTensorInfoMap, 'coef' | 'weights' | 'radCoef' | 'absWeights' | 'origins' | 'base' | 'kernel' | 'bias' | 'labels'>;
/** Attributes of {@link PcWindowReluMargins}: the window's feature offsets, as {@link PcWindowSumsAttrs}. */
export type PcWindowReluMarginsAttrs = PcWindowSumsAttrs;

/**
 * A bound's last three layers, fused, without gradients: for rows of a hidden layer's pre-ReLU
 * box (center `mu`, radius `r`), the ReLU box, a dense layer in center/radius form, and
 * {@link PcReluElidedMargins}' rule with the last layer and each row's label. Output
 * `[rows, classes]`. Units inactive over their box add no term to either dense layer.
 */
export const PcReluDenseReluMargins = 'PcReluDenseReluMargins';
/**
 * Inputs of {@link PcReluDenseReluMargins}: `mu`, `r` `[rows, u1]`, `kernel2`, `absKernel2`
 * `[u1, u2]`, `bias2` `[u2]`, `kernel` `[u2, classes]`, `bias` `[classes]` (float32), `labels`
 * `[rows]` int32.
 */
export type PcReluDenseReluMarginsInputs = Pick<tf.NamedTensorInfoMap, 'mu' | 'r' | 'kernel2' | 'absKernel2' | 'bias2' | 'kernel' | 'bias' | 'labels'>;

/**
 * {@link PcReluDenseReluMargins} with the hidden box summed from a change first: row q's
 * pre-ReLU center is `base[baseRows[q]] + dMu[q]·kernel1` and its radius `dR[q]·|kernel1|`
 * (the first dense layer after a conv window, fed the window's change). Output
 * `[rows, classes]`; inputs that change in neither row of a pair add no term.
 */
export const PcDenseTailMargins = 'PcDenseTailMargins';
/**
 * Inputs of {@link PcDenseTailMargins}: `dMu`, `dR` `[rows, f]`, `kernel1`, `absKernel1` `[f, u1]`,
 * `base` `[images, u1]`, `baseRows` int32 `[rows]`, then as {@link PcReluDenseReluMarginsInputs}
 * without `mu` and `r`.
 */
export type PcDenseTailMarginsInputs = Pick<tf.NamedTensorInfoMap, 'dMu' | 'dR' | 'kernel1' | 'absKernel1' | 'base' | 'baseRows' | 'kernel2' | 'absKernel2' | 'bias2' | 'kernel' | 'bias' | 'labels'>;

/**
 * Gumbel top-k over the cells of a score map, per image and class, without gradients: the k
 * cells with the largest −temperature·score + Gumbel noise, a draw without replacement from
 * softmax(−temperature·score) (guided patch sampling). The noise of cell c of class j of image
 * n is the Gumbel draw of one 32-bit word, the words taken class by class, cell by cell, image by
 * image: from `words`, or generated as {@link Rng}'s xoshiro128** from `state`. Outputs `picks`
 * `[batch, classes, k]` int32 (cells, largest key first) and the generator's state after the
 * words drawn (`[4]`; zeros when `words` are given).
 */
export const PcGumbelTopK = 'PcGumbelTopK';
/**
 * Inputs of {@link PcGumbelTopK}: `scores` `[batch, cells, classes]` float32, and either `words`
 * int32 `[batch, classes, cells]` (the bits of each word) or `state` int32 `[4]`.
 */
export type PcGumbelTopKInputs = Pick<tf.NamedTensorInfoMap, 'scores'> & Partial<Pick<tf.NamedTensorInfoMap, 'words' | 'state'>>;
/** Attributes of {@link PcGumbelTopK}: draws per (image, class), 1 ≤ k ≤ cells, and the temperature. */
export interface PcGumbelTopKAttrs {
  k: number;
  temperature: number;
}
