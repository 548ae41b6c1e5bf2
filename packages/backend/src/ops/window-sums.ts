import { tf } from '../tf.js';
import { op } from '../op.js';
import { PcWindowSums, type PcWindowSumsAttrs, type PcWindowSumsInputs } from '../kernel-names.js';

const windowSums_ = (coef: tf.Tensor2D, weights: tf.Tensor2D, attrs: PcWindowSumsAttrs): tf.Tensor3D => {
  if (tf.getKernel(PcWindowSums, tf.getBackend()) !== undefined) {
    const inputs: PcWindowSumsInputs = { coef, weights };
    return tf.engine().runKernel(PcWindowSums, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  }
  // Stock ops (tfjs-node): per tap, the coefficients and weight rows of every window, gathered.
  const { width, channels, gridHeight: gh, gridWidth: gw, taps } = attrs;
  const origins = Int32Array.from({ length: gh * gw }, (_, l) => (Math.floor(l / gw) * width + (l % gw)) * channels);
  let sum: tf.Tensor | null = null;
  for (const t of taps) {
    const idx = tf.tensor1d(origins.map((o) => o + t), 'int32');
    const term = tf.mul(tf.expandDims(tf.gather(coef, idx, 1), 2), tf.expandDims(tf.gather(weights, idx), 0));
    sum = sum ? tf.add(sum, term) : term;
  }
  return (sum ?? tf.zeros([coef.shape[0], gh * gw, weights.shape[1]])) as tf.Tensor3D;
};

/**
 * A dense layer's term over every window of a grid: for window origin l = (r, c),
 * `out[b, l, :] = Σ_t coef[b, o(l) + taps[t]] · weights[o(l) + taps[t], :]` with
 * o(l) = (r·width + c)·channels (features in NHWC order). One fused kernel on wasm and cpu
 * (`PcWindowSums`), stock gathers elsewhere. No gradient.
 *
 * @param coef - per-feature coefficients `[batch, features]`.
 * @param weights - one row per feature `[features, units]`.
 * @param attrs - image `width`, `channels`, the grid (`gridHeight`, `gridWidth`) and the window's
 *   feature offsets `taps` ((dr·width + dc)·channels + ch per pixel of the window).
 * @returns `[batch, gridHeight · gridWidth, units]`.
 * @throws PatchcertError `SHAPE_MISMATCH` or `INVALID_ARGUMENT` naming the input or attribute at fault.
 */
export const windowSums = op({ windowSums_ });
