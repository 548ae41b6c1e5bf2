// Per-channel reductions of NHWC tensors over batch and space. On wasm, patchcert's Sum runs
// these leading-axis reductions as one loop over the rows; a [1, N]·[N, C] matMul by ones (what
// this used before) makes XNNPACK repack the fresh [N, C] operand on every call (4 ms against
// 0.4 for [256, 28, 28, 6]).
import { tf } from '@patchcert/backend';

/** The axes of batch and space: every axis but the last. */
function leadingAxes(t: tf.Tensor): number[] {
  return Array.from({ length: t.rank - 1 }, (_, i) => i);
}

/** Sum over every axis but the last (channels). */
export function channelSum(t: tf.Tensor): tf.Tensor1D {
  return tf.sum(t, leadingAxes(t)) as tf.Tensor1D;
}

/** Per-channel mean and biased variance over every axis but the last. */
export function channelMoments(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const n = x.size / x.shape[x.rank - 1]!;
  const mean = tf.mul(channelSum(x), 1 / n) as tf.Tensor1D;
  const variance = tf.mul(channelSum(tf.square(tf.sub(x, mean))), 1 / n) as tf.Tensor1D;
  return { mean, variance };
}
