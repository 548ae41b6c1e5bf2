import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { CenterRadius } from '../interval.js';
import type { PatchThreat } from '../patch-threat.js';
import { intervalLayer } from '../interval-layer.js';

/**
 * Bound pooling (reference-spec §8): `pool[i] = n > 1` replaces, after layer i, the bounds of
 * every n×n block of adjacent rows of the location grid (row-major, ceil mode: edge blocks are
 * partial) by their element-wise max (upper) and min (lower).
 */
export type PoolList = readonly number[];

/**
 * Checks a pool list against a model and threat; returns it as a plain array.
 * @throws PatchcertError `INVALID_OPTION` (not positive integers, pooling after the last layer,
 *   a threat restricted to fixed locations).
 */
export function checkPool(pool: unknown, model: SequentialModel, threat: PatchThreat, fn: string): number[] {
  assert(Array.isArray(pool) && pool.every((n) => Number.isInteger(n) && n >= 1),
    () => `Error in ${fn}: pool must be an array of positive integers (block size after each layer index), but got ${JSON.stringify(pool)}.`, 'INVALID_OPTION');
  const list = pool as number[];
  const last = model.layers.length - 1;
  for (let i = last; i < list.length; i++) {
    assert(list[i] === 1, () => `Error in ${fn}: pool entries must be 1 from the last layer (index ${last}, merged with the margins) on, but got ${list[i]} at index ${i}.`, 'INVALID_OPTION');
  }
  assert(threat.fixedLocations === undefined,
    () => `Error in ${fn}: threat must cover the full location grid (pooling groups adjacent locations), but got ${threat.name}.`, 'INVALID_OPTION');
  return list.slice(0, last);
}

/** Product of the block sizes: location rows (and columns) per final block. */
export function poolSpan(pool: PoolList): number {
  return pool.reduce((a, n) => a * n, 1);
}

/**
 * Max (`sign = 1`) or min (`sign = −1`) over the member axis 1 of `[a, m, c]`, as a chain of
 * `maximum`/`minimum` over the members in order. tfjs sends the gradient of `maximum(a, b)` to
 * `a` on ties, so the gradient reaches the first extreme member only (row-major), like PyTorch's
 * max pooling; `tf.max`'s gradient would give every tied member the full gradient (at eps = 0
 * all members tie), and on wasm it is ~8× slower (it transposes the middle axis).
 */
export function reduceMembers(x: tf.Tensor, sign: 1 | -1): tf.Tensor2D {
  const parts = tf.unstack(x, 1);
  let y = parts[0]!;
  for (let k = 1; k < parts.length; k++) y = sign === 1 ? tf.maximum(y, parts[k]!) : tf.minimum(y, parts[k]!);
  return y as tf.Tensor2D;
}

/** Center/radius from pooled lower/upper. */
export function fromBounds(lower: tf.Tensor, upper: tf.Tensor): CenterRadius {
  return { mu: tf.mul(tf.add(upper, lower), 0.5), r: tf.mul(tf.sub(upper, lower), 0.5) };
}

/**
 * Max pool of `[batch, bh, bw, f]` in n×n blocks, stride n, ceil mode (the bottom/right edge is
 * padded, so edge blocks are partial). The values come from tfjs's max pool kernel; the gradient
 * is computed on the host and goes to the first maximum of each block in row-major order, like
 * PyTorch's (wasm's MaxPoolGrad gives tied members the gradient several times, and at eps = 0
 * every member ties; a separable maximum chain gets it right but costs ~3× an MLP step).
 */
function firstMaxPool(x: tf.Tensor4D, n: number): tf.Tensor4D {
  const [batch, bh, bw, f] = x.shape;
  const gh = Math.ceil(bh / n);
  const gw = Math.ceil(bw / n);
  const fn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor4D;
    const save = args[1] as tf.GradSaveFunc;
    const y = tf.maxPool(input, n, n, [[0, 0], [0, gh * n - bh], [0, gw * n - bw], [0, 0]]);
    save([input, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const xd = saved[0]!.dataSync() as Float32Array;
        const yd = saved[1]!.dataSync() as Float32Array;
        const gd = dy.dataSync() as Float32Array;
        const gx = new Float32Array(xd.length);
        const found = new Uint8Array(f);
        for (let b = 0; b < batch; b++) {
          for (let I = 0; I < gh; I++) {
            for (let J = 0; J < gw; J++) {
              const o = ((b * gh + I) * gw + J) * f;
              found.fill(0);
              for (let r = I * n; r < Math.min(bh, I * n + n); r++) {
                for (let c = J * n; c < Math.min(bw, J * n + n); c++) {
                  const xb = ((b * bh + r) * bw + c) * f;
                  for (let k = 0; k < f; k++) {
                    if (found[k] === 0 && xd[xb + k] === yd[o + k]) {
                      gx[xb + k] = gd[o + k]!;
                      found[k] = 1;
                    }
                  }
                }
              }
            }
          }
        }
        return tf.tensor4d(gx, [batch, bh, bw, f]);
      },
    };
  });
  return fn(x) as tf.Tensor4D;
}

/**
 * Pools a box whose rows are `batch` images' location grids `[bh, bw]` (row-major) in n×n
 * blocks, ceil mode (edge blocks partial): upper = max, lower = min over each block's members,
 * with the gradient on the row-major first extreme member (see {@link firstMaxPool}).
 *
 * @returns the pooled box (rows `batch · ⌈bh/n⌉ · ⌈bw/n⌉`) and its grid.
 */
export function poolBoxRows(box: CenterRadius, batch: number, bh: number, bw: number, n: number): { box: CenterRadius; bh: number; bw: number } {
  const feat = box.mu.shape.slice(1);
  const f = feat.reduce((a, b) => a * b, 1);
  const gh = Math.ceil(bh / n);
  const gw = Math.ceil(bw / n);
  const pool = (t: tf.Tensor): tf.Tensor => tf.reshape(firstMaxPool(tf.reshape(t, [batch, bh, bw, f]) as tf.Tensor4D, n), [batch * gh * gw, ...feat]);
  const lower = tf.neg(pool(tf.neg(tf.sub(box.mu, box.r))));
  const upper = pool(tf.add(box.mu, box.r));
  return { box: fromBounds(lower, upper), bh: gh, bw: gw };
}

/**
 * Interval propagation through layers `[from, to)` with bound pooling after every layer i that
 * has `pool[i] > 1`; rows are `batch` location grids `[bh, bw]`, and the grid shrinks with each
 * pooling.
 */
export function propagatePooled(model: SequentialModel, box: CenterRadius, from: number, to: number, pool: PoolList, batch: number, bh: number, bw: number): { box: CenterRadius; bh: number; bw: number } {
  let cur = { box, bh, bw };
  for (let i = from; i < to; i++) {
    cur = { ...cur, box: intervalLayer(model.layers[i]!, model.weights[i] ?? null, cur.box) };
    cur = poolAfter(cur, i, pool, batch);
  }
  return cur;
}

/** Applies `pool[i]` (if > 1) to a box of location-grid rows. */
export function poolAfter(cur: { box: CenterRadius; bh: number; bw: number }, i: number, pool: PoolList, batch: number): { box: CenterRadius; bh: number; bw: number } {
  const n = pool[i] ?? 1;
  return n > 1 ? poolBoxRows(cur.box, batch, cur.bh, cur.bw, n) : cur;
}
