import { tf } from '@patchcert/backend';

/**
 * Sum of the `k` largest entries along the last axis, differentiable w.r.t. `t` (tfjs has no
 * gradient for TopK). The k-th largest value is found on a detached copy; entries ≥ it are
 * summed and the tied surplus `(count − k)·kth` removed, so the value is exact even with ties,
 * and the gradient is the top-k selection mask.
 */
export function topkSum(t: tf.Tensor, k: number): tf.Tensor {
  return tf.tidy(() => {
    const n = t.shape[t.shape.length - 1]!;
    if (k >= n) return tf.sum(t, -1);
    const detached = tf.tensor(t.dataSync(), t.shape, 'float32');
    const { values } = tf.topk(detached, k, true);
    const kth = tf.slice(values, new Array<number>(values.rank - 1).fill(0).concat([k - 1]), values.shape.slice(0, -1).concat([1]));
    const mask = tf.cast(tf.greaterEqual(detached, kth), 'float32');
    const surplus = tf.mul(tf.sub(tf.sum(mask, -1, true), k), kth);
    return tf.squeeze(tf.sub(tf.sum(tf.mul(mask, t), -1, true), surplus), [-1]);
  });
}
