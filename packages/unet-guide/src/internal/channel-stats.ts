// Per-channel reductions of NHWC tensors over batch and space, as [1, N]·[N, C] matMuls: tfjs
// reduces leading axes with a transpose and a slow Sum on wasm (and Sum's gradient uploads a
// host array of ones); matMul is fast and its gradient is a matMul too.
import { tf } from '@patchcert/backend';

/** Sum over every axis but the last (channels). */
export function channelSum(t: tf.Tensor): tf.Tensor1D {
  const c = t.shape[t.rank - 1]!;
  const rows = t.size / c;
  return tf.reshape(tf.matMul(tf.fill([1, rows], 1) as tf.Tensor2D, tf.reshape(t, [rows, c]) as tf.Tensor2D), [c]);
}

/** Per-channel mean and biased variance over every axis but the last. */
export function channelMoments(x: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const c = x.shape[x.rank - 1]!;
  const n = x.size / c;
  const flat = tf.reshape(x, [n, c]) as tf.Tensor2D;
  const w = tf.fill([1, n], 1 / n) as tf.Tensor2D;
  const mean = tf.reshape(tf.matMul(w, flat), [c]) as tf.Tensor1D;
  const variance = tf.reshape(tf.matMul(w, tf.square(tf.sub(flat, mean))), [c]) as tf.Tensor1D;
  return { mean, variance };
}
