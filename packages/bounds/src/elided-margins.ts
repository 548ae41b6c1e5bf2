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
 * @param hostLabels - the same labels on the host, only when no gradient is needed: runs of
 *   equal labels then use one 10-column matmul each (faster; same values).
 * @returns margin lower bounds `[batch, rows, classes]`; differentiable w.r.t. the weights.
 */
export function elidedMarginsCenterRadius(model: SequentialModel, box: CenterRadius, onehot: tf.Tensor2D, hostLabels?: Int32Array): tf.Tensor3D {
  return tf.tidy(() => {
    const last = model.layers.length - 1;
    const w = model.weights[last];
    if (model.layers[last]?.type !== 'dense' || !w) {
      throw new PatchcertError('UNSUPPORTED_LAYER', `Error in elidedMarginBounds: the last layer must be dense, but got ${model.layers[last]?.type}.`);
    }
    const kernel = w.kernel as tf.Tensor2D; // [in, classes]
    const [inDim, classes] = kernel.shape;
    const batch = onehot.shape[0];
    // Plain 2-D matmuls only (batched matmuls with a 10-column output are slow on wasm).
    // Center: c = μ·W + b, and the margin center c_y − c_j (exactly 0 at j = y).
    const mu = tf.reshape(box.mu, [-1, inDim]) as tf.Tensor2D;
    const r = tf.reshape(box.r, [-1, inDim]) as tf.Tensor2D;
    const c = tf.reshape(tf.add(tf.matMul(mu, kernel), w.bias), [batch, -1, classes]);
    const oh = tf.reshape(onehot, [batch, 1, classes]);
    const cy = tf.sum(tf.mul(c, oh), 2, true);
    if (hostLabels) return tf.sub(tf.sub(cy, c), radiusByLabelRuns(r, kernel, hostLabels, batch)) as tf.Tensor3D;
    // Radius: r·|W_y − W_j| for every (y, j) at once, [in, classes·classes] with column y·classes + j,
    // then the row's own y block picked by the one-hot labels.
    const absDiff = tf.reshape(tf.abs(tf.sub(tf.reshape(kernel, [inDim, classes, 1]), tf.reshape(kernel, [inDim, 1, classes]))), [inDim, classes * classes]);
    const rad = tf.reshape(tf.matMul(r, absDiff as tf.Tensor2D), [batch, -1, classes, classes]);
    const ry = tf.sum(tf.mul(rad, tf.reshape(onehot, [batch, 1, classes, 1])), 2);
    return tf.sub(tf.sub(cy, c), ry) as tf.Tensor3D;
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

/**
 * Elided radius r·|W_y − W| `[batch, rows, classes]` computed per run of images with the same
 * label: one plain matmul with that label's `[in, classes]` matrix per run. A run's rows are
 * contiguous, so they are sliced on the backend (one block copy; none for a single run) rather
 * than split on the host, which cost two copies of every row (not differentiable: the runs come
 * from host labels).
 */
function radiusByLabelRuns(r: tf.Tensor2D, kernel: tf.Tensor2D, labels: Int32Array, batch: number): tf.Tensor3D {
  const [inDim, classes] = kernel.shape;
  const rowsPerImage = r.shape[0] / batch;
  const parts: tf.Tensor2D[] = [];
  for (let b0 = 0; b0 < batch; ) {
    let b1 = b0 + 1;
    while (b1 < batch && labels[b1] === labels[b0]) b1++;
    const y = labels[b0]!;
    const a = tf.abs(tf.sub(tf.slice(kernel, [0, y], [inDim, 1]), kernel)) as tf.Tensor2D;
    const rows = b0 === 0 && b1 === batch ? r : tf.slice(r, [b0 * rowsPerImage, 0], [(b1 - b0) * rowsPerImage, inDim]);
    parts.push(tf.matMul(rows, a));
    b0 = b1;
  }
  return tf.reshape(parts.length === 1 ? parts[0]! : tf.concat(parts, 0), [batch, -1, classes]) as tf.Tensor3D;
}
