// BatchNorm's normalization as one op with the textbook gradient. Differentiated op by op, the
// four broadcast ops (sub, mul, mul, add) and the moments each add a reduction over batch and
// space, a transpose plus a slow Sum on wasm; here the backward pass reduces twice, as matMuls.
import { tf } from '@patchcert/backend';
import { channelSum } from './channel-stats.js';
import { joinValues } from './join-arrays.js';
import type { ShardGroup } from './shard-group.js';

/**
 * (x − mean)·rsqrt(variance + eps)·gamma + beta over the channels of an NHWC tensor,
 * differentiable with respect to x, gamma and beta.
 *
 * @param batchStats - true when mean and variance are the biased batch moments of this x (train
 *   mode): the gradient then includes their dependence on x. False for fixed (running) statistics.
 * @param group - with batch moments over several replicas' shards: the backward pass's means of
 *   dy and dy·x̂ are then over the union too (one exchange of 2C + 1 values).
 */
export function batchNormalize(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  eps: number,
  batchStats: boolean,
  group?: ShardGroup,
): tf.Tensor4D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [xv, g, b] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    const r = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(xv, mean), r);
    save([xhat, r, g]);
    return {
      value: tf.add(tf.mul(xhat, g), b) as tf.Tensor4D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxhat, sr, sg] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const dBeta = channelSum(dy);
        const dGamma = channelSum(tf.mul(dy, sxhat));
        const scale = tf.mul(sg, sr);
        if (!batchStats) return [tf.mul(dy, scale), dGamma, dBeta];
        // dx = γ·r·(dy − mean(dy) − x̂·mean(dy·x̂)), the means over batch and space.
        const c = dy.shape[dy.rank - 1]!;
        const n = dy.size / c;
        let meanDy: tf.Tensor;
        let meanDyXhat: tf.Tensor;
        if (group) {
          const s = group.sumShards(joinValues(dBeta.dataSync(), dGamma.dataSync(), [n]));
          const total = s[2 * c]!;
          meanDy = tf.tensor1d(s.subarray(0, c).map((v) => v / total));
          meanDyXhat = tf.tensor1d(s.subarray(c, 2 * c).map((v) => v / total));
        } else {
          meanDy = tf.div(dBeta, n);
          meanDyXhat = tf.div(dGamma, n);
        }
        // dGamma and dBeta stay this shard's: the replicas' parameter gradients are summed later.
        const centered = tf.sub(tf.sub(dy, meanDy), tf.mul(sxhat, meanDyXhat));
        return [tf.mul(centered, scale), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}
