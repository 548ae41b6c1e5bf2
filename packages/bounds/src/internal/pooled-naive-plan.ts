import { tf } from '@patchcert/backend';
import type { PatchThreat } from '../patch-threat.js';
import { maskedBox } from '../input-box.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import { rowMasks } from './naive-plan.js';
import { poolSpan, propagatePooled, type PoolList } from './pool-rows.js';
import type { PreparedBatch } from './prepared.js';

/** Computes pooled margins for bands of final block rows over one prepared batch. */
export interface PooledMarginPlan {
  /** Final block grid `[rows, cols]` per image. */
  readonly grid: [number, number];
  /** Location rows (and columns) per final block: the product of the block sizes. */
  readonly span: number;
  /** Floats per location (before pooling) of the largest intermediate, for choosing bands. */
  readonly rowCost: number;
  /** Margin lower bounds of final block rows `[j0, j1)`: `[batch, (j1 − j0)·cols, classes]`, row-major. */
  margins(j0: number, j1: number): tf.Tensor3D;
  /** Frees what the plan precomputed. */
  dispose(): void;
}

/** Location rows `[r0, r1)` of final block rows `[j0, j1)` (every column). */
export function bandRows(j0: number, j1: number, span: number, gh: number): [number, number] {
  return [j0 * span, Math.min(gh, j1 * span)];
}

/**
 * The reference for bound pooling: every location's full input box goes through the network,
 * pooled after each layer i with `pool[i] > 1` (what the paper's code does, reference-spec §8).
 * The fast pooled plans are tested against it.
 */
export function pooledNaivePlan(prep: PreparedBatch, threat: PatchThreat, pool: PoolList): PooledMarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const [gh, gw] = threat.grid(h, w);
  const span = poolSpan(pool);
  const last = model.layers.length - 1;
  return {
    grid: [Math.ceil(gh / span), Math.ceil(gw / span)],
    span,
    rowCost: Math.max(h * w * c, ...model.shapes.map((s) => s.reduce((a, b) => a * b, 1))),
    margins(j0: number, j1: number): tf.Tensor3D {
      return tf.tidy(() => {
        const [r0, r1] = bandRows(j0, j1, span, gh);
        const k = (r1 - r0) * gw;
        const rows = new Int32Array(batch * k);
        const cols = new Int32Array(batch * k);
        for (let b = 0; b < batch; b++) {
          for (let l = 0; l < k; l++) {
            rows[b * k + l] = r0 + Math.floor(l / gw);
            cols[b * k + l] = l % gw;
          }
        }
        const mask = tf.tensor(rowMasks(threat, { perImage: k, rows, cols }, h, w), [batch, k, h, w, 1]);
        const expand = (t: tf.Tensor) => tf.expandDims(t, 1);
        const cr = maskedBox({ clean: expand(boxes.clean) as tf.Tensor4D, box: { mu: expand(boxes.box.mu) as tf.Tensor4D, r: expand(boxes.box.r) as tf.Tensor4D } }, mask);
        const flat = { mu: tf.reshape(cr.mu, [batch * k, h, w, c]), r: tf.reshape(cr.r, [batch * k, h, w, c]) };
        const out = propagatePooled(model, flat, 0, last, pool, batch, r1 - r0, gw);
        return elidedMarginsCenterRadius(model, out.box, onehot, prep.hostLabels);
      });
    },
    dispose() {},
  };
}
