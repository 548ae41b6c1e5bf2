import { tf } from '@patchcert/backend';

/**
 * A batch of boxes in lower/upper form: every element of the input lies in
 * `[lower, upper]`. Both tensors have the same shape, the batch dimension first.
 */
// A type alias (not an interface) so it is a tfjs TensorContainer that tf.tidy can return.
export type Interval = {
  lower: tf.Tensor;
  upper: tf.Tensor;
};

/**
 * The same boxes in center/radius form, the form the bound rules compute in: the box is
 * `[mu − r, mu + r]` with `r ≥ 0`. Affine layers map the center exactly and the radius through
 * `|W|`, which is why the rules keep this form (reference-spec §3).
 */
export type CenterRadius = {
  mu: tf.Tensor;
  r: tf.Tensor;
};

/** Center/radius form of an interval (new tensors; the caller owns them). */
export function toCenterRadius(box: Interval): CenterRadius {
  return tf.tidy(() => {
    const mu = tf.mul(tf.add(box.upper, box.lower), 0.5);
    const r = tf.mul(tf.sub(box.upper, box.lower), 0.5);
    return { mu, r };
  });
}

/** Lower/upper form of a center/radius box (new tensors; the caller owns them). */
export function toInterval(box: CenterRadius): Interval {
  return tf.tidy(() => ({ lower: tf.sub(box.mu, box.r), upper: tf.add(box.mu, box.r) }));
}
