import { tf } from '../tf.js';
import { op } from '../op.js';
import { PatchcertError } from '../errors.js';
import { PcReluElidedMargins, type PcReluElidedMarginsInputs } from '../kernel-names.js';
import { intervalReluBox } from './interval-relu-box.js';

const reluElidedMargins_ = (
  delta: tf.Tensor3D, base: tf.Tensor2D, rad: tf.Tensor3D, kernel: tf.Tensor2D, bias: tf.Tensor1D, labels: tf.Tensor1D, locs: tf.Tensor2D,
): tf.Tensor3D => {
  if (tf.getKernel(PcReluElidedMargins, tf.getBackend()) !== undefined) {
    const inputs: PcReluElidedMarginsInputs = { delta, base, rad, kernel, bias, labels, locs };
    return tf.engine().runKernel(PcReluElidedMargins, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor3D;
  }
  // Stock ops (tfjs-node): the same rule, rows gathered, every label's merged matrix per image.
  const [batch, total, units] = delta.shape;
  const count = locs.shape[1];
  const host = locs.dataSync();
  for (let i = 0; i < host.length; i++) {
    if (!(host[i]! >= 0 && host[i]! < total)) throw new PatchcertError('INVALID_ARGUMENT', `Error in reluElidedMargins: locs must be in [0, ${total - 1}], but got ${host[i]} at ${i}.`);
  }
  const shared = locs.shape[0] === 1;
  // Row indices into [rows, units]: per image (b·total + l), or l alone for one image's tensor.
  const index = (oneImage: boolean) =>
    tf.tensor1d(Int32Array.from({ length: batch * count }, (_, i) => host[shared ? i % count : i]! + (oneImage ? 0 : Math.floor(i / count) * total)), 'int32');
  const rows = (t: tf.Tensor3D) => tf.reshape(tf.gather(tf.reshape(t, [-1, units]), index(t.shape[0] === 1 && batch !== 1)), [batch, count, units]);
  const box = intervalReluBox(tf.add(rows(delta), tf.expandDims(base, 1)), rows(rad));
  const classes = kernel.shape[1];
  const ky = tf.transpose(tf.gather(kernel, labels, 1)); // [batch, units]: W[:, y_b]
  const d = tf.sub(tf.expandDims(ky, 2), tf.expandDims(kernel, 0)) as tf.Tensor3D; // [batch, units, classes]
  const e = tf.sub(tf.expandDims(tf.gather(bias, labels), 1), tf.expandDims(bias, 0)); // [batch, classes]
  const m = tf.add(tf.sub(tf.matMul(box.mu as tf.Tensor3D, d), tf.matMul(box.r as tf.Tensor3D, tf.abs(d))), tf.expandDims(e, 1));
  const isY = tf.cast(tf.expandDims(tf.oneHot(labels, classes), 1), 'bool');
  return tf.where(tf.broadcastTo(isY, m.shape), tf.zerosLike(m), m) as tf.Tensor3D;
};

/**
 * Margin lower bounds of an IBP box after a ReLU and the last dense layer merged with
 * C = e_y − e_j (elision), at locations `locs[b, q]` of image b: the hidden layer's center is
 * `base[b] + delta[b, l]` and its radius `rad[b, l]` (or `rad[0, l]` for every image when `rad`
 * holds one image). No gradient (certification and ranking only). One fused
 * kernel on wasm and cpu (`PcReluElidedMargins`); stock ops elsewhere; equal to float rounding.
 *
 * @param delta - center change per location `[batch, total, units]`.
 * @param base - center shared by an image's locations `[batch, units]`.
 * @param rad - radius `[batch, total, units]` or `[1, total, units]`.
 * @param kernel - last layer's weights `[units, classes]`; `bias` its bias `[classes]`.
 * @param labels - true classes `[batch]` (int32).
 * @param locs - location indices in `[0, total)` (int32): `[batch, count]`, or `[1, count]` for
 *   the same locations in every image.
 * @returns `[batch, count, classes]` lower bounds of z_y − z_j, exactly 0 at j = y.
 * @throws PatchcertError `SHAPE_MISMATCH` or `INVALID_ARGUMENT` naming the input at fault.
 */
export const reluElidedMargins = op({ reluElidedMargins_ });
