import { tf } from '@patchcert/backend';

/**
 * Minimum over locations (axis 1) whose gradient goes to the first minimiser only, as PyTorch's
 * `min(dim)` does. tf.min hands the full gradient to every tied location, which multiplies it
 * wherever locations tie: at eps = 0 every location does, and random(k) draws with replacement.
 *
 * @param m - margins `[batch, locations, classes]`.
 * @returns `[batch, classes]`.
 */
export const minOverLocations = tf.customGrad(((m: tf.Tensor3D, save: tf.GradSaveFunc) => {
  const first = tf.argMin(m, 1);
  save([first]);
  return {
    value: tf.min(m, 1),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [b, l, c] = m.shape;
      if (l === 1) return tf.reshape(dy, [b, 1, c]);
      // [b, c] indices → [b, c, l] one-hot → [b, l, c], scaled by dy [b, 1, c].
      const mask = tf.transpose(tf.oneHot(tf.reshape(saved[0]!, [b * c]), l).reshape([b, c, l]), [0, 2, 1]);
      return tf.mul(mask, tf.reshape(dy, [b, 1, c]));
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (m: tf.Tensor3D) => tf.Tensor2D;

/**
 * Folds passes of margins `[batch, k, classes]` into their running minimum over locations
 * `[batch, classes]`, freeing each pass as soon as it is folded in (the gradient tape keeps its
 * own copies), so memory stays flat over locations. Call inside a tidy scope.
 *
 * @param forEach - runs its visitor on every pass's margins (at least one pass).
 * @returns the minimum over every pass, with {@link minOverLocations}'s gradient.
 */
export function foldMinOverLocations(forEach: (visit: (m: tf.Tensor3D) => void) => void): tf.Tensor2D {
  let worst: tf.Tensor2D | null = null;
  forEach((m) => {
    const cur = minOverLocations(m);
    m.dispose();
    if (worst) {
      const next = tf.minimum(worst, cur) as tf.Tensor2D;
      tf.dispose([worst, cur]);
      worst = next;
    } else {
      worst = cur;
    }
  });
  return worst!;
}
