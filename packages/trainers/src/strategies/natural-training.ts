import { tf } from '@patchcert/backend';
import type { MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';

/** The strategies {@link naturalTraining} made: their margins are the clean logit differences. */
const NATURAL = new WeakSet<MarginStrategy>();

/**
 * Natural training as a strategy: the margins are the clean logit differences z_y − z_j, so the
 * certificate loss CE(−m, y) equals the plain cross-entropy CE(z, y). The trainer uses it for
 * the warm-up epochs whose end eps is 0, and configs use it for the undefended baseline.
 */
export function naturalTraining(): MarginStrategy {
  const s: MarginStrategy = {
    name: 'natural',
    margins(ctx: MarginStrategyContext): tf.Tensor2D {
      return tf.tidy(() => {
        const z = ctx.model.predict(ctx.images);
        const onehot = tf.oneHot(tf.cast(ctx.labels, 'int32'), z.shape[1]);
        return tf.sub(tf.sum(tf.mul(z, onehot), 1, true), z) as tf.Tensor2D;
      });
    },
  };
  NATURAL.add(s);
  return s;
}

/** True when `s` came from {@link naturalTraining}, so its margins are the clean z_y − z_j. */
export function isNaturalTraining(s: MarginStrategy): boolean {
  return NATURAL.has(s);
}

/**
 * How many images clean margins m = z_y − z_j classify correctly, exactly as `argMax(z) == y`
 * counts them (argMax takes the first maximum): z_y must beat every earlier logit (m_j > 0 for
 * j < y) and tie or beat every later one (m_j ≥ 0 for j > y); the sign of z_y − z_j is the order
 * of the two floats. Saves natural training a second forward pass for its train accuracy.
 * @param margins - `[batch, classes]` clean logit differences, 0 in the y slot.
 * @param labels - `[batch]` integer classes.
 * @returns a float32 scalar.
 */
export function cleanMarginsCorrect(margins: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const f = (b: tf.Tensor): tf.Tensor => tf.cast(b, 'float32');
    const before = f(tf.less(tf.range(0, margins.shape[1], 1, 'int32'), tf.expandDims(tf.cast(labels, 'int32'), 1)));
    const ge = f(tf.greaterEqual(margins, 0));
    // ok = before ? m > 0 : m ≥ 0, in 0/1 floats (wasm's Select returns its first operand for bool operands).
    const ok = tf.sub(ge, tf.mul(before, tf.sub(ge, f(tf.greater(margins, 0)))));
    return tf.sum(tf.min(ok, 1)) as tf.Scalar;
  });
}
