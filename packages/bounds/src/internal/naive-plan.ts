import { tf } from '@patchcert/backend';
import type { PatchThreat } from '../patch-threat.js';
import { maskedBox } from '../input-box.js';
import { propagateCenterRadius } from '../propagate-interval.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import type { MarginPlan, PreparedBatch, RowOrigins } from './prepared.js';

/** Writes the stencil of every row into a `[rows, h, w]` 0/1 mask. */
export function rowMasks(threat: PatchThreat, origins: RowOrigins, h: number, w: number): Float32Array {
  const n = origins.rows.length;
  const m = new Float32Array(n * h * w);
  for (let i = 0; i < n; i++) {
    const r0 = origins.rows[i]!;
    const c0 = origins.cols[i]!;
    const base = i * h * w;
    for (let a = 0; a < threat.height; a++) {
      for (let b = 0; b < threat.width; b++) if (threat.stencil[a * threat.width + b]) m[base + (r0 + a) * w + c0 + b] = 1;
    }
  }
  return m;
}

/**
 * The reference path: every row's full input box goes through every layer (what the paper's
 * code does). Exact by construction; the fast plans are tested against it.
 */
export function naivePlan(prep: PreparedBatch, threat: PatchThreat): MarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const last = model.layers.length - 1;
  const rowCost = Math.max(h * w * c, ...model.shapes.map((s) => s.reduce((a, b) => a * b, 1)));
  return {
    rowCost,
    margins(origins: RowOrigins): tf.Tensor3D {
      return tf.tidy(() => {
        const k = origins.perImage;
        const mask = tf.tensor(rowMasks(threat, origins, h, w), [batch, k, h, w, 1]);
        const expand = (t: tf.Tensor) => tf.expandDims(t, 1);
        const cr = maskedBox({ clean: expand(boxes.clean) as tf.Tensor4D, box: { mu: expand(boxes.box.mu) as tf.Tensor4D, r: expand(boxes.box.r) as tf.Tensor4D } }, mask);
        const flat = { mu: tf.reshape(cr.mu, [batch * k, h, w, c]), r: tf.reshape(cr.r, [batch * k, h, w, c]) };
        const out = propagateCenterRadius(model, flat, 0, last);
        return elidedMarginsCenterRadius(model, out, onehot, prep.hostLabels);
      });
    },
    dispose() {},
  };
}
