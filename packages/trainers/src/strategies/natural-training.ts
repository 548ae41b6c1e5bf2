import { tf } from '@patchcert/backend';
import type { MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';

/**
 * Natural training as a strategy: the margins are the clean logit differences z_y − z_j, so the
 * certificate loss CE(−m, y) equals the plain cross-entropy CE(z, y). The trainer uses it for
 * the warm-up epochs whose end eps is 0, and configs use it for the undefended baseline.
 */
export function naturalTraining(): MarginStrategy {
  return {
    name: 'natural',
    margins(ctx: MarginStrategyContext): tf.Tensor2D {
      return tf.tidy(() => {
        const z = ctx.model.predict(ctx.images);
        const onehot = tf.oneHot(tf.cast(ctx.labels, 'int32'), z.shape[1]);
        return tf.sub(tf.sum(tf.mul(z, onehot), 1, true), z) as tf.Tensor2D;
      });
    },
  };
}
