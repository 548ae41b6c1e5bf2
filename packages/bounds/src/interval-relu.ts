import { tf, op } from '@patchcert/backend';
import type { CenterRadius } from './interval.js';

const intervalRelu_ = (box: CenterRadius): CenterRadius => {
  // ReLU is monotone, so the box maps to [relu(l), relu(u)] (reference-spec §3).
  const l = tf.relu(tf.sub(box.mu, box.r));
  const u = tf.relu(tf.add(box.mu, box.r));
  return { mu: tf.mul(tf.add(u, l), 0.5), r: tf.mul(tf.sub(u, l), 0.5) };
};

/** Interval rule of ReLU: `[max(l,0), max(u,0)]`, any shape. */
export const intervalRelu = op({ intervalRelu_ });
