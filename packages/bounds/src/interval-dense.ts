import { tf, op } from '@patchcert/backend';
import type { CenterRadius } from './interval.js';

const intervalDense_ = (box: CenterRadius, kernel: tf.Tensor, bias: tf.Tensor): CenterRadius => {
  // Rows may carry extra leading dims ([B, L, in]); a 2-D matmul over the flattened rows keeps
  // the op on the fast plain-matmul path.
  const inDim = kernel.shape[0]!;
  const lead = box.mu.shape.slice(0, -1);
  const k2 = kernel as tf.Tensor2D;
  const mu2 = tf.reshape(box.mu, [-1, inDim]) as tf.Tensor2D;
  const r2 = tf.reshape(box.r, [-1, inDim]) as tf.Tensor2D;
  const mu = tf.add(tf.matMul(mu2, k2), bias);
  const r = tf.matMul(r2, tf.abs(k2));
  const out = [...lead, kernel.shape[1]!];
  return { mu: tf.reshape(mu, out), r: tf.reshape(r, out) };
};

/**
 * Interval rule of a dense layer y = x·W + b (kernel `[in, units]`): μ' = μ·W + b and
 * r' = r·|W|, the same matmul without bias for the radius (reference-spec §3).
 *
 * @param box - center/radius `[..., in]`.
 * @returns center/radius `[..., units]`.
 */
export const intervalDense = op({ intervalDense_ });
