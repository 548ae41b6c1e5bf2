import { tf } from '../tf.js';
import { op } from '../op.js';
import { PcWindowReluMargins, type PcWindowReluMarginsInputs } from '../kernel-names.js';
import { windowSums } from './window-sums.js';
import { reluElidedMargins } from './relu-elided-margins.js';

const windowReluMargins_ = (
  coef: tf.Tensor2D, weights: tf.Tensor2D, radCoef: tf.Tensor2D, absWeights: tf.Tensor2D, origins: tf.Tensor2D, taps: readonly number[],
  base: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D, labels: tf.Tensor1D,
): tf.Tensor3D => {
  if (tf.getKernel(PcWindowReluMargins, tf.getBackend()) !== undefined) {
    const inputs: PcWindowReluMarginsInputs = { coef, weights, radCoef, absWeights, origins, base, kernel, bias, labels };
    return tf.engine().runKernel(PcWindowReluMargins, inputs as unknown as tf.NamedTensorMap, { taps: [...taps] } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  }
  // Elsewhere (tfjs-node): the two ops it fuses, every row at its own location.
  const batch = base.shape[0];
  const count = origins.shape[1];
  const rows = (t: tf.Tensor3D) => (t.shape[0] === batch ? t : tf.broadcastTo(t, [batch, count, t.shape[2]]) as tf.Tensor3D);
  const delta = rows(windowSums(coef, weights, origins, taps));
  const rad = rows(windowSums(radCoef, absWeights, origins, taps));
  return reluElidedMargins(delta, base, rad, kernel, bias, labels, tf.tensor2d(Int32Array.from({ length: count }, (_, i) => i), [1, count], 'int32'));
};

/**
 * {@link reluElidedMargins} at windows of the input, each row's hidden center change and radius
 * summed from its window as {@link windowSums} would, in one pass: row q of image b (first feature
 * o = origins[b, q]) has center `base[b] + Σ_t coef[b, o+t]·weights[o+t, :]` and radius
 * `Σ_t radCoef[b, o+t]·absWeights[o+t, :]`. bounds' MLP fast path with one hidden layer (certify,
 * all-patch ranking); no gradient. One fused kernel on wasm and cpu (`PcWindowReluMargins`), the
 * two ops elsewhere; equal to float rounding.
 *
 * @param coef - per-feature center change `[batch, features]`, or `[1, features]` for every image.
 * @param weights - first layer's kernel `[features, units]`.
 * @param radCoef - per-feature radius, shaped as `coef`; `absWeights` is `|weights|`.
 * @param origins - first feature of each window (int32) `[batch, count]`, or `[1, count]`.
 * @param taps - the window's feature offsets from its first feature.
 * @param base - hidden center of the clean image `[batch, units]`.
 * @param kernel - last layer's weights `[units, classes]`; `bias` its bias `[classes]`.
 * @param labels - true classes `[batch]` (int32).
 * @returns `[batch, count, classes]` lower bounds of z_y − z_j, exactly 0 at j = y.
 * @throws PatchcertError `SHAPE_MISMATCH` or `INVALID_ARGUMENT` naming the input at fault.
 */
export const windowReluMargins = op({ windowReluMargins_ });
