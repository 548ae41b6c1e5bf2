import { tf, op } from '@patchcert/backend';
import type { Conv2DSpec } from '@patchcert/models';
import type { CenterRadius } from './interval.js';

const intervalConv2d_ = (
  box: CenterRadius,
  layer: Pick<Conv2DSpec, 'strides' | 'padding'>,
  kernel: tf.Tensor,
  bias: tf.Tensor,
): CenterRadius => {
  const [pt, pb, pl, pr] = layer.padding;
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pt, pb], [pl, pr], [0, 0]];
  const k4 = kernel as tf.Tensor4D;
  const mu = tf.add(tf.conv2d(box.mu as tf.Tensor4D, k4, layer.strides, pad), bias);
  const r = tf.conv2d(box.r as tf.Tensor4D, tf.abs(k4), layer.strides, pad);
  return { mu, r };
};

/**
 * Interval rule of a 2-D convolution (NHWC, kernel `[kh, kw, cin, cout]`, explicit zero
 * padding `[top, bottom, left, right]`): μ' = W⊛μ + b and r' = |W|⊛r with the same stride and
 * padding and no bias (reference-spec §3). Padding contributes zero to both, as in the forward
 * pass.
 *
 * @param box - center/radius `[batch, height, width, cin]`.
 * @returns center/radius `[batch, outHeight, outWidth, cout]`.
 */
export const intervalConv2d = op({ intervalConv2d_ });
