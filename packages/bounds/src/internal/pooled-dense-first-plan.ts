import { tf } from '@patchcert/backend';
import type { PatchThreat } from '../patch-threat.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import { denseFirstTerms } from './dense-first-plan.js';
import { poolAfter, poolSpan, propagatePooled, type PoolList } from './pool-rows.js';
import { bandRows, type PooledMarginPlan } from './pooled-naive-plan.js';
import type { PreparedBatch } from './prepared.js';

/**
 * Fast bound pooling for models that start with flatten → dense (the MLP): the first dense
 * layer's per-location boxes are the clean output plus the box-sum terms of the dense-first
 * plan, `[batch, locations, units]`; a band of location rows is a contiguous slice of them. They
 * are pooled over location blocks (when `pool[1] > 1`) and the pooled rows continue through
 * the rest of the network, pooled again where the list says. Pooling after the flatten
 * (`pool[0] > 1`) is not handled here (the caller uses the naive pooled plan).
 */
export function pooledDenseFirstPlan(prep: PreparedBatch, threat: PatchThreat, pool: PoolList, differentiable: boolean): PooledMarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w] = boxes.clean.shape;
  const units = model.weights[1]!.kernel.shape[1]!;
  const [gh, gw] = threat.grid(h, w);
  const span = poolSpan(pool);
  const last = model.layers.length - 1;
  const pre = denseFirstTerms(prep, threat, differentiable);
  return {
    grid: [Math.ceil(gh / span), Math.ceil(gw / span)],
    span,
    rowCost: Math.max(units, ...model.shapes.slice(2).map((s) => s.reduce((a, b) => a * b, 1))),
    margins(j0: number, j1: number): tf.Tensor3D {
      return tf.tidy(() => {
        const [r0, r1] = bandRows(j0, j1, span, gh);
        const k = (r1 - r0) * gw;
        const band = (t: tf.Tensor2D): tf.Tensor => {
          const t3 = tf.reshape(t, [batch, gh * gw, units]);
          return k === gh * gw ? t3 : tf.slice(t3, [0, r0 * gw, 0], [batch, k, units]);
        };
        const mu = tf.reshape(tf.add(band(pre.sMu), tf.expandDims(pre.clean0, 1)), [batch * k, units]);
        const r = tf.reshape(band(pre.sR), [batch * k, units]);
        const first = poolAfter({ box: { mu, r }, bh: r1 - r0, bw: gw }, 1, pool, batch);
        const out = propagatePooled(model, first.box, 2, last, pool, batch, first.bh, first.bw);
        return elidedMarginsCenterRadius(model, out.box, onehot, prep.hostLabels);
      });
    },
    dispose() {
      tf.dispose(pre);
    },
  };
}
