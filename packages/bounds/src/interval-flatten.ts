import { tf, op } from '@patchcert/backend';
import type { CenterRadius } from './interval.js';

const intervalFlatten_ = (box: CenterRadius): CenterRadius => {
  const b = box.mu.shape[0]!;
  return { mu: tf.reshape(box.mu, [b, -1]), r: tf.reshape(box.r, [b, -1]) };
};

/**
 * Interval rule of flatten: both tensors reshaped row-major `[batch, h·w·c]` (channel fastest,
 * as the model's own flatten).
 */
export const intervalFlatten = op({ intervalFlatten_ });
