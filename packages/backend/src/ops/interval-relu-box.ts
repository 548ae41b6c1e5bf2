import { tf } from '../tf.js';
import { op } from '../op.js';
import { PcIntervalRelu, type PcIntervalReluInputs } from '../kernel-names.js';
import { registerGradients } from '../gradients/register-all-gradients.js';

/** A box as center and radius, the form IBP propagates. */
export type CenterRadiusBox = {
  mu: tf.Tensor;
  r: tf.Tensor;
};

const intervalReluBox_ = (mu: tf.Tensor, r: tf.Tensor): CenterRadiusBox => {
  // The fused kernel where the backend has one (wasm, cpu) and the inputs are what it takes;
  // elsewhere (tfjs-node, broadcasting, other dtypes) the same rule composed from stock ops.
  if (
    mu.dtype === 'float32' && r.dtype === 'float32' && tf.util.arraysEqual(mu.shape, r.shape) &&
    tf.getKernel(PcIntervalRelu, tf.getBackend()) !== undefined
  ) {
    registerGradients();
    const inputs: PcIntervalReluInputs = { mu, r };
    const [m, s] = tf.engine().runKernel(PcIntervalRelu, inputs as unknown as tf.NamedTensorMap, {}) as unknown as [tf.Tensor, tf.Tensor];
    return { mu: m!, r: s! };
  }
  const l = tf.relu(tf.sub(mu, r));
  const u = tf.relu(tf.add(mu, r));
  return { mu: tf.mul(tf.add(u, l), 0.5), r: tf.mul(tf.sub(u, l), 0.5) };
};

/**
 * The interval rule of ReLU on a center/radius box: with l = max(μ−r, 0), u = max(μ+r, 0),
 * returns `{ mu: (u+l)/2, r: (u−l)/2 }`. One fused kernel (`PcIntervalRelu`, with its gradient)
 * on wasm and cpu; stock ops elsewhere. Both give the same bits.
 *
 * @param mu - box centers, any shape.
 * @param r - box radii (≥ 0), the shape of `mu` (or broadcastable, composite path).
 * @returns the output box.
 * @example
 * const { mu, r } = intervalReluBox(tf.tensor1d([-1, 0.5]), tf.tensor1d([0.5, 1])); // mu [0, 0.75], r [0, 0.75]
 */
export const intervalReluBox = op({ intervalReluBox_ });
