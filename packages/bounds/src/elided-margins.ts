import { tf, assert, PatchcertError } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { toCenterRadius, type CenterRadius, type Interval } from './interval.js';
import { propagateCenterRadius } from './propagate-interval.js';
import { labelArray, oneHotLabels, type LabelsLike } from './internal/labels.js';

/**
 * Margin lower bounds through the last (dense) layer merged with C = e_y − e_j ("elision",
 * reference-spec §3): per image the merged weight is W̃ = W_y − W (every column j is
 * W[:, y] − W[:, j]) and the merged bias b̃ = b_y − b, so the lower bound of z_y − z_j is
 * (μ·W̃ + b̃) − r·|W̃|, tighter than bounding the two logits apart. The y column of W̃ and b̃ is
 * exactly zero, so the y slot is exactly 0.
 *
 * @param box - center/radius of the last layer's input, `[batch, rows, in]` (rows: locations).
 * @param onehot - one-hot labels `[batch, classes]`.
 * @returns margin lower bounds `[batch, rows, classes]`; differentiable w.r.t. the weights.
 */
export function elidedMarginsCenterRadius(model: SequentialModel, box: CenterRadius, onehot: tf.Tensor2D): tf.Tensor3D {
  return tf.tidy(() => {
    const last = model.layers.length - 1;
    const w = model.weights[last];
    if (model.layers[last]?.type !== 'dense' || !w) {
      throw new PatchcertError('UNSUPPORTED_LAYER', `Error in elidedMarginBounds: the last layer must be dense, but got ${model.layers[last]?.type}.`);
    }
    const kernel = w.kernel as tf.Tensor2D; // [in, classes]
    const [inDim, classes] = kernel.shape;
    const batch = onehot.shape[0];
    // W_y per image as a one-hot matmul: exact, and differentiable without gather.
    const wy = tf.matMul(onehot, kernel, false, true); // [B, in]
    const wt = tf.sub(tf.reshape(wy, [batch, inDim, 1]), tf.reshape(kernel, [1, inDim, classes])); // [B, in, classes]
    const by = tf.sum(tf.mul(onehot, w.bias), 1, true); // [B, 1]
    const bt = tf.reshape(tf.sub(by, w.bias), [batch, 1, classes]);
    const mu = tf.reshape(box.mu, [batch, -1, inDim]) as tf.Tensor3D;
    const r = tf.reshape(box.r, [batch, -1, inDim]) as tf.Tensor3D;
    const center = tf.add(tf.matMul(mu, wt as tf.Tensor3D), bt);
    const radius = tf.matMul(r, tf.abs(wt) as tf.Tensor3D);
    return tf.sub(center, radius) as tf.Tensor3D;
  });
}

/**
 * Lower bounds of the logit margins z_y − z_j for a batch of boxes, with the last layer merged
 * with the margin matrix (elision).
 *
 * @param model - the network; its last layer must be dense.
 * @param interval - boxes in the input space of layer `from` (`from = 0`: normalized images).
 * @param labels - true class per box, `[batch]`.
 * @param options.from - the layer the interval enters. @defaultValue 0
 * @returns `[batch, classes]` margin lower bounds with exactly 0 in the y slot.
 * @throws PatchcertError `SHAPE_MISMATCH` when the label count differs from the batch.
 */
export function elidedMarginBounds(model: SequentialModel, interval: Interval, labels: LabelsLike, options: { from?: number } = {}): tf.Tensor2D {
  const from = options.from ?? 0;
  const last = model.layers.length - 1;
  assert(Number.isInteger(from) && from >= 0 && from <= last, () => `Error in elidedMarginBounds: options.from must be an integer in [0, ${last}], but got ${from}.`, 'INVALID_OPTION');
  const batch = interval.lower.shape[0]!;
  const y = labelArray(labels, batch, model.numClasses, 'elidedMarginBounds');
  return tf.tidy(() => {
    const box = propagateCenterRadius(model, toCenterRadius(interval), from, last);
    const m = elidedMarginsCenterRadius(model, { mu: tf.expandDims(box.mu, 1), r: tf.expandDims(box.r, 1) }, oneHotLabels(y, model.numClasses));
    return tf.squeeze(m, [1]) as tf.Tensor2D;
  });
}
