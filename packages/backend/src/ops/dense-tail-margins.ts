import { tf } from '../tf.js';
import { op } from '../op.js';
import { PcDenseTailMargins, type PcDenseTailMarginsInputs } from '../kernel-names.js';
import { reluDenseReluMargins } from './relu-dense-relu-margins.js';

const denseTailMargins_ = (
  dMu: tf.Tensor2D, dR: tf.Tensor2D, kernel1: tf.Tensor2D, absKernel1: tf.Tensor2D, base: tf.Tensor2D, baseRows: tf.Tensor1D,
  kernel2: tf.Tensor2D, absKernel2: tf.Tensor2D, bias2: tf.Tensor1D, kernel: tf.Tensor2D, bias: tf.Tensor1D, labels: tf.Tensor1D,
): tf.Tensor2D => {
  if (tf.getKernel(PcDenseTailMargins, tf.getBackend()) !== undefined) {
    const inputs: PcDenseTailMarginsInputs = { dMu, dR, kernel1, absKernel1, base, baseRows, kernel2, absKernel2, bias2, kernel, bias, labels };
    return tf.engine().runKernel(PcDenseTailMargins, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor2D;
  }
  // Elsewhere (tfjs-node): the hidden box by two matmuls, then the fused tail's op.
  const mu = tf.add(tf.matMul(dMu, kernel1), tf.gather(base, baseRows)) as tf.Tensor2D;
  const r = tf.matMul(dR, absKernel1) as tf.Tensor2D;
  return reluDenseReluMargins(mu, r, kernel2, absKernel2, bias2, kernel, bias, labels);
};

/**
 * {@link reluDenseReluMargins} with the hidden box summed from a change: row q's pre-ReLU center
 * is `base[baseRows[q]] + dMu[q]·kernel1` and its radius `dR[q]·absKernel1` (`kernel1` `[f, u1]`,
 * `absKernel1` = |kernel1|; `base` `[images, u1]`). bounds' conv-window plan: the first dense
 * layer after the last conv window, fed the window's change of the flattened map, then the
 * 4-layer CNNs' ReLU-dense-ReLU-elided tail. Inputs that change in neither row of a pair are
 * skipped. No gradient. One fused kernel on wasm and cpu (`PcDenseTailMargins`), stock ops
 * elsewhere; equal to float rounding.
 *
 * @returns `[rows, classes]` lower bounds of z_y − z_j, exactly 0 at j = y.
 * @throws PatchcertError `SHAPE_MISMATCH` or `INVALID_ARGUMENT` naming the input at fault.
 */
export const denseTailMargins = op({ denseTailMargins_ });
