import { tf } from '../tf.js';
import { op } from '../op.js';
import { PcReluDenseReluMargins, type PcReluDenseReluMarginsInputs } from '../kernel-names.js';
import { intervalReluBox } from './interval-relu-box.js';
import { reluElidedMargins } from './relu-elided-margins.js';

const reluDenseReluMargins_ = (
  mu: tf.Tensor2D, r: tf.Tensor2D, kernel2: tf.Tensor2D, absKernel2: tf.Tensor2D, bias2: tf.Tensor1D, kernel: tf.Tensor2D, bias: tf.Tensor1D, labels: tf.Tensor1D,
): tf.Tensor2D => {
  if (tf.getKernel(PcReluDenseReluMargins, tf.getBackend()) !== undefined) {
    const inputs: PcReluDenseReluMarginsInputs = { mu, r, kernel2, absKernel2, bias2, kernel, bias, labels };
    return tf.engine().runKernel(PcReluDenseReluMargins, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor2D;
  }
  // Elsewhere (tfjs-node): the ReLU box, two matmuls, and the elided margins with one location per row.
  const box = intervalReluBox(mu, r);
  const mu2 = tf.add(tf.matMul(box.mu as tf.Tensor2D, kernel2), bias2) as tf.Tensor2D;
  const r2 = tf.matMul(box.r as tf.Tensor2D, absKernel2);
  const rows = mu.shape[0];
  const m = reluElidedMargins(tf.zeros([rows, 1, mu2.shape[1]]), mu2, tf.expandDims(r2, 1) as tf.Tensor3D, kernel, bias, labels, tf.tensor2d([[0]], [1, 1], 'int32'));
  return tf.reshape(m, [rows, kernel.shape[1]]) as tf.Tensor2D;
};

/**
 * A bound's last three layers for rows of a hidden layer's box (pre-ReLU center `mu` and radius
 * `r`, `[rows, u1]`): the ReLU box, a dense layer in center/radius form (`kernel2` `[u1, u2]`, its
 * absolute value `absKernel2`, `bias2`), then {@link reluElidedMargins}' rule with the last layer
 * (`kernel` `[u2, classes]`, `bias`) and row q's label `labels[q]`. Units inactive over their box
 * are skipped in both dense layers. bounds' conv-window plan (the 4-layer CNNs' 256→256→classes
 * tail); no gradient. One fused kernel on wasm and cpu (`PcReluDenseReluMargins`), stock ops
 * elsewhere; equal to float rounding.
 *
 * @returns `[rows, classes]` lower bounds of z_y − z_j, exactly 0 at j = y.
 * @throws PatchcertError `SHAPE_MISMATCH` or `INVALID_ARGUMENT` naming the input at fault.
 */
export const reluDenseReluMargins = op({ reluDenseReluMargins_ });
