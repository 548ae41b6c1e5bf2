import { tf } from '@patchcert/backend';
import type { PatchThreat } from '../patch-threat.js';
import { propagateCenterRadius } from '../propagate-interval.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import type { MarginPlan, PreparedBatch, RowOrigins } from './prepared.js';
import { windowTaps } from './window-taps.js';

/**
 * Plan for a few explicit locations per image on models that start with flatten → dense (random-k
 * training of the MLP). The same exact rule as the dense-first plan (a patch changes only its own
 * pixels, so the first dense layer's center is the clean output plus Σ_{p ∈ patch} Δμ[p]·W[p,:]
 * and its radius Σ_{p ∈ patch} r[p]·|W[p,:]|), but summed over each row's own patch pixels only:
 * the W rows of those pixels are gathered (T = stencil pixels × channels per row, 4 for a 2×2
 * patch on MNIST), so a row costs T·units multiply-adds instead of the naive path's full
 * `[in] · [in, units]` products, and there is no per-image window-sum set-up. Δμ and r depend
 * on the data only, so they are gathered on the host; the gather of W is differentiable (its
 * gradient is a segment sum, a patchcert wasm kernel).
 */
export function denseFirstRowsPlan(prep: PreparedBatch, threat: PatchThreat): MarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const dense = model.weights[1]!;
  const units = dense.kernel.shape[1]!;
  const last = model.layers.length - 1;
  const clean0 = tf.tidy(() => tf.add(tf.matMul(tf.reshape(boxes.clean, [batch, h * w * c]), dense.kernel as tf.Tensor2D), dense.bias) as tf.Tensor2D);
  let host: { delta: Float32Array; r: Float32Array } | null = null;
  const hostBoxes = (): { delta: Float32Array; r: Float32Array } => {
    if (host) return host;
    // Not returned through tf.tidy: tidy walks every element of a typed array it returns.
    const d = tf.sub(boxes.box.mu, boxes.clean);
    host = { delta: d.dataSync() as Float32Array, r: boxes.box.r.dataSync() as Float32Array };
    d.dispose();
    return host;
  };
  // The patch pixels of one location, as offsets into a flattened image from the origin's index.
  const taps = windowTaps(threat, w, c);
  const t = taps.length;
  return {
    rowCost: Math.max(units * t, ...model.shapes.slice(2).map((s) => s.reduce((a, b) => a * b, 1))),
    margins(origins: RowOrigins): tf.Tensor3D {
      return tf.tidy(() => {
        const k = origins.perImage;
        const n = batch * k;
        const { delta, r } = hostBoxes();
        const feature = new Int32Array(n * t);
        const dMu = new Float32Array(n * t);
        const dR = new Float32Array(n * t);
        for (let row = 0; row < n; row++) {
          const b = Math.floor(row / k);
          const origin = (origins.rows[row]! * w + origins.cols[row]!) * c;
          for (let q = 0; q < t; q++) {
            const f = origin + taps[q]!;
            feature[row * t + q] = f;
            dMu[row * t + q] = delta[b * h * w * c + f]!;
            dR[row * t + q] = r[b * h * w * c + f]!;
          }
        }
        const rowsW = tf.reshape(tf.gather(dense.kernel, tf.tensor1d(feature, 'int32')), [n, t, units]);
        // [n, 1, t] · [n, t, units]: a batched matmul, not mul + sum, whose gradient would hold
        // broadcast [n, t, units] temporaries (5×5, batch 256: 1.8 GB vs 1.2 GB peak RSS; as fast).
        const muPatch = tf.reshape(tf.matMul(tf.tensor3d(dMu, [n, 1, t]), rowsW), [n, units]);
        const rPatch = tf.reshape(tf.matMul(tf.tensor3d(dR, [n, 1, t]), tf.abs(rowsW)), [n, units]);
        const mu = tf.add(tf.reshape(muPatch, [batch, k, units]), tf.expandDims(clean0, 1));
        const box = propagateCenterRadius(model, { mu: tf.reshape(mu, [n, units]), r: rPatch }, 2, last);
        return elidedMarginsCenterRadius(model, box, onehot, prep.hostLabels);
      });
    },
    dispose() {
      clean0.dispose();
    },
  };
}
