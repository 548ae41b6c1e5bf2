import { tf, windowReluMargins } from '@patchcert/backend';
import type { PatchThreat } from '../patch-threat.js';
import type { MarginPlan, PreparedBatch, RowOrigins } from './prepared.js';
import { windowTaps } from './window-taps.js';
import { imagesEqual } from './batch.js';

/**
 * The dense-first plan (see dense-first-plan.ts) for a model with one hidden layer, without
 * gradients (certification and all-patch ranking), in one fused kernel per pass and only at the
 * requested locations: PcWindowReluMargins sums each row's first-layer center change and radius
 * from its patch's weight rows and takes them through the ReLU and the elided last layer.
 * Nothing is computed for locations no pass asks for (pruned certification asks for few).
 *
 * @param prep - a prepared batch with `hostLabels`.
 */
export function fusedDenseFirstPlan(prep: PreparedBatch, threat: PatchThreat): MarginPlan {
  const { model, boxes } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const features = h * w * c;
  const dense = model.weights[1]!;
  const output = model.weights[model.layers.length - 1]!;
  const units = dense.kernel.shape[1]!;
  const taps = windowTaps(threat, w, c);
  const held = tf.tidy(() => {
    const flat = (t: tf.Tensor) => tf.reshape(t, [t.shape[0]!, features]) as tf.Tensor2D;
    const kernel = dense.kernel as tf.Tensor2D; // [features, units], rows in NHWC feature order
    // With eps ≥ 1 every image has the same radii (half the [0, 1] range, normalized): one row.
    const r = boxes.box.r;
    const shared = batch > 1 && imagesEqual(r.dataSync() as Float32Array, batch);
    return {
      clean0: tf.add(tf.matMul(flat(boxes.clean), kernel), dense.bias) as tf.Tensor2D,
      delta: flat(tf.sub(boxes.box.mu, boxes.clean)),
      radius: flat(shared ? tf.slice(r, [0, 0, 0, 0], [1, h, w, c]) : r),
      absKernel: tf.abs(kernel) as tf.Tensor2D,
      labels: tf.tensor1d(prep.hostLabels!, 'int32'),
    };
  });
  return {
    // Per row: the two window sums (units each) and the margins.
    rowCost: 2 * units + model.numClasses,
    margins(origins: RowOrigins): tf.Tensor3D {
      const k = origins.perImage;
      const lists = origins.shared ? 1 : batch;
      const first = Int32Array.from({ length: lists * k }, (_, i) => (origins.rows[i]! * w + origins.cols[i]!) * c);
      return tf.tidy(() => {
        const o = tf.tensor2d(first, [lists, k], 'int32');
        return windowReluMargins(held.delta, dense.kernel as tf.Tensor2D, held.radius, held.absKernel, o, taps, held.clean0, output.kernel as tf.Tensor2D, output.bias as tf.Tensor1D, held.labels);
      });
    },
    dispose() {
      tf.dispose(held);
    },
  };
}
