import { tf } from '../tf.js';
import { op } from '../op.js';
import { PatchcertError } from '../errors.js';
import { PcWindowSums, type PcWindowSumsInputs } from '../kernel-names.js';

const windowSums_ = (coef: tf.Tensor2D, weights: tf.Tensor2D, origins: tf.Tensor2D, taps: readonly number[]): tf.Tensor3D => {
  if (tf.getKernel(PcWindowSums, tf.getBackend()) !== undefined) {
    const inputs: PcWindowSumsInputs = { coef, weights, origins };
    return tf.engine().runKernel(PcWindowSums, inputs as unknown as tf.NamedTensorMap, { taps: [...taps] } as unknown as tf.NamedAttrMap) as tf.Tensor3D;
  }
  // Stock ops (tfjs-node): per tap, the coefficients and weight rows of every window, gathered.
  const [features, units] = weights.shape;
  const batch = Math.max(coef.shape[0], origins.shape[0]);
  const count = origins.shape[1];
  const host = origins.dataSync();
  const reach = Math.max(0, ...taps);
  for (let i = 0; i < host.length; i++) {
    if (!(host[i]! >= 0 && host[i]! + reach < features)) throw new PatchcertError('INVALID_ARGUMENT', `Error in windowSums: every window must lie inside the ${features} features, but origin ${host[i]} at ${i} with tap ${reach} does not.`);
  }
  const perImage = Int32Array.from({ length: batch * count }, (_, i) => host[origins.shape[0] === 1 ? i % count : i]!);
  const coefRows = tf.broadcastTo(coef, [batch, features]);
  let sum: tf.Tensor = tf.zeros([batch, count, units]);
  for (const t of taps) {
    const f = perImage.map((o) => o + t);
    const rowsOfImage = Int32Array.from(f, (v, i) => Math.floor(i / count) * features + v);
    const c = tf.reshape(tf.gather(tf.reshape(coefRows, [-1]), tf.tensor1d(rowsOfImage, 'int32')), [batch, count, 1]);
    const w = tf.reshape(tf.gather(weights, tf.tensor1d(f, 'int32')), [batch, count, units]);
    sum = tf.add(sum, tf.mul(c, w));
  }
  return sum as tf.Tensor3D;
};

/**
 * A dense layer's term over windows of its input: for window q of image b, whose first feature
 * is o = origins[b, q], `out[b, q, :] = Σ_t coef[b, o + taps[t]] · weights[o + taps[t], :]`
 * (features in NHWC order; a patch at (r, c) of an image of width w and c channels starts at
 * (r·w + c)·channels). One fused kernel on wasm and cpu (`PcWindowSums`), stock gathers
 * elsewhere. No gradient.
 *
 * @param coef - per-feature coefficients `[batch, features]`, or `[1, features]` for every image.
 * @param weights - one row per feature `[features, units]`.
 * @param origins - first feature of each window (int32) `[batch, count]`, or `[1, count]` for every image.
 * @param taps - the window's feature offsets from its first feature.
 * @returns `[batch, count, units]`.
 * @throws PatchcertError `SHAPE_MISMATCH` or `INVALID_ARGUMENT` naming the input at fault.
 */
export const windowSums = op({ windowSums_ });
