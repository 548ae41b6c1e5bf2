import { tf } from '../tf.js';
import { PcIntervalRelu, PcIntervalReluGrad, type PcIntervalReluGradInputs } from '../kernel-names.js';

/**
 * The gradient of `PcIntervalRelu` w.r.t. `mu` and `r`, from the indicators of μ±r > 0 (relu's
 * gradient is 0 at exactly 0, as tfjs's is). One fused kernel where the backend has
 * `PcIntervalReluGrad`, else the same arithmetic composed from stock ops.
 */
function intervalReluBackward(mu: tf.Tensor, r: tf.Tensor, dMu: tf.Tensor, dR: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (tf.getKernel(PcIntervalReluGrad, tf.getBackend()) !== undefined) {
    const inputs: PcIntervalReluGradInputs = { mu, r, dMu, dR };
    return tf.engine().runKernel(PcIntervalReluGrad, inputs as unknown as tf.NamedTensorMap, {}) as unknown as [tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const a = tf.mul(dMu, 0.5);
    const b = tf.mul(dR, 0.5);
    const gu = tf.mul(tf.add(a, b), tf.step(tf.add(mu, r)));
    const gl = tf.mul(tf.sub(a, b), tf.step(tf.sub(mu, r)));
    return [tf.add(gu, gl), tf.sub(gu, gl)];
  });
}

/**
 * Gradient config of `PcIntervalRelu`. Both input gradients come from one backward kernel, so it
 * runs eagerly here (in tfjs's backward scope, which frees it) rather than once per input thunk:
 * each thunk runs in its own tidy, which would free the other input's half.
 */
export const intervalReluGradConfig: tf.GradConfig = {
  kernelName: PcIntervalRelu,
  inputsToSave: ['mu', 'r'],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [dMu, dR] = dys as tf.Tensor[];
    const [mu, r] = saved;
    const [gMu, gR] = intervalReluBackward(mu!, r!, dMu!, dR!);
    return { mu: () => gMu, r: () => gR };
  },
};
