// Per-channel reductions of NHWC tensors over batch and space. On wasm, patchcert's Sum runs
// these leading-axis reductions as one loop over the rows; a [1, N]·[N, C] matMul by ones (what
// this used before) makes XNNPACK repack the fresh [N, C] operand on every call (4 ms against
// 0.4 for [256, 28, 28, 6]).
import { tf } from '@patchcert/backend';
import { joinValues } from './join-arrays.js';
import type { ShardGroup } from './shard-group.js';

/** The axes of batch and space: every axis but the last. */
function leadingAxes(t: tf.Tensor): number[] {
  return Array.from({ length: t.rank - 1 }, (_, i) => i);
}

/** Sum over every axis but the last (channels). */
export function channelSum(t: tf.Tensor): tf.Tensor1D {
  return tf.sum(t, leadingAxes(t)) as tf.Tensor1D;
}

/** Per-channel moments and the number of values per channel they are over. */
export interface ChannelMoments {
  mean: tf.Tensor1D;
  /** Biased (divided by `count`). */
  variance: tf.Tensor1D;
  count: number;
}

/**
 * Per-channel mean and biased variance over every axis but the last; with a `group`, over the
 * union of the replicas' shards (two exchanges of C + 1 and C values), as constants.
 */
export function channelMoments(x: tf.Tensor, group?: ShardGroup): ChannelMoments {
  const c = x.shape[x.rank - 1]!;
  const n = x.size / c;
  if (!group) {
    const mean = tf.mul(channelSum(x), 1 / n) as tf.Tensor1D;
    const variance = tf.mul(channelSum(tf.square(tf.sub(x, mean))), 1 / n) as tf.Tensor1D;
    return { mean, variance, count: n };
  }
  const sums = group.sumShards(joinValues(channelSum(x).dataSync(), [n]));
  const count = sums[c]!;
  const mean = tf.tensor1d(sums.subarray(0, c).map((s) => s / count));
  const squares = group.sumShards(channelSum(tf.square(tf.sub(x, mean))).dataSync() as Float32Array);
  return { mean, variance: tf.tensor1d(squares.map((s) => s / count)), count };
}
