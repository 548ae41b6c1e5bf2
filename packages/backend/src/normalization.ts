import { tf } from './tf.js';
import { op } from './op.js';

/**
 * Per-channel input normalization x̃ = (x − mean_c) / std_c, applied to pixel-space images in
 * [0,1]. MNIST uses none (`{ mean: [0], std: [1] }`); CIFAR-10 uses the paper's constants.
 * Lives here because datasets (which provide it), models (which record it) and bounds (which
 * apply it to boxes) all share it.
 */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** The identity normalization for `channels` channels. */
export function identityNormalization(channels: number): Normalization {
  return { mean: new Array<number>(channels).fill(0), std: new Array<number>(channels).fill(1) };
}

/** True when `n` changes nothing. */
export function isIdentityNormalization(n: Normalization): boolean {
  return n.mean.every((m) => m === 0) && n.std.every((s) => s === 1);
}

const normalizeImages_ = (x: tf.Tensor4D, n: Normalization): tf.Tensor4D => {
  if (isIdentityNormalization(n)) return tf.clone(x);
  const c = x.shape[3];
  const mean = n.mean.length === 1 ? new Array<number>(c).fill(n.mean[0]!) : n.mean;
  const std = n.std.length === 1 ? new Array<number>(c).fill(n.std[0]!) : n.std;
  return tf.div(tf.sub(x, tf.tensor1d(mean)), tf.tensor1d(std));
};

/**
 * Maps pixel-space images (or box bounds: the map is increasing, so it maps a box to a box)
 * `[batch, height, width, channels]` in [0,1] to the model's normalized input space.
 */
export const normalizeImages = op({ normalizeImages_ });
