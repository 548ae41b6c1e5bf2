import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { PatchThreat } from '../patch-threat.js';
import type { LabelsLike } from './labels.js';
import { checkArgs, checkChunk, disposeBatch, prepareBatch } from './batch.js';
import { fastPlanKind, type BoundMethod } from './create-plan.js';
import { checkPool, poolSpan } from './pool-rows.js';
import { pooledNaivePlan, type PooledMarginPlan } from './pooled-naive-plan.js';
import { pooledDenseFirstPlan } from './pooled-dense-first-plan.js';
import { pooledConvWindowPlan } from './pooled-conv-window-plan.js';
import type { PreparedBatch } from './prepared.js';
import { foldMinOverLocations } from './min-over-locations.js';

/** Options of {@link pooledLocationMargins} and {@link pooledWorstMargins}. */
export interface PooledMarginOptions {
  /**
   * Block size after each layer index (the reference's `neighbor` list): `pool[i] = n > 1`
   * pools the bounds of n×n blocks of adjacent locations after layer i (ceil mode). `[2]`
   * pools 2×2 after layer 0; entries of 1 do nothing.
   */
  pool: readonly number[];
  /** Schedule value: patch pixels range over `[max(0,x−eps), min(1,x+eps)]`. */
  eps: number;
  /**
   * `'fast'`: pool the local first-layer terms / windows (dense-first box sums, conv windows);
   * `'naive'`: every location's full box, pooled after the listed layers. Equal to float
   * tolerance.
   * @defaultValue 'fast'
   */
  method?: BoundMethod;
  /** Bound rows (image × location pairs, before pooling) per pass. @defaultValue automatic (~24 MB per tensor) */
  chunk?: number;
  /**
   * Keep every step on the gradient tape (training). `false` (certification) lets the last
   * layer use host-side label runs (faster, same values).
   * @defaultValue true
   */
  gradients?: boolean;
}

/** The final grid of blocks for a pool list, and the locations each block covers. */
export interface PooledGrid {
  /** Blocks per image, rows × cols, row-major. */
  rows: number;
  cols: number;
  /** Location rows (and columns) per block: the product of the block sizes. */
  span: number;
  /** The location grid `[rows, cols]` it pools. */
  locationGrid: [number, number];
}

/**
 * The grid of final blocks: with block sizes n₁, n₂, … the blocks are `span × span` squares of
 * the location grid, span = n₁·n₂·…, partial at the bottom and right edges (ceil mode).
 */
export function pooledGrid(threat: PatchThreat, height: number, width: number, pool: readonly number[]): PooledGrid {
  const [gh, gw] = threat.grid(height, width);
  const span = poolSpan(pool);
  return { rows: Math.ceil(gh / span), cols: Math.ceil(gw / span), span, locationGrid: [gh, gw] };
}

/** Picks the pooled plan: dense-first / conv-window compositions for `fast`, else the naive one. */
export function createPooledPlan(prep: PreparedBatch, threat: PatchThreat, pool: readonly number[], method: BoundMethod, differentiable: boolean): PooledMarginPlan {
  if (method === 'fast') {
    const kind = fastPlanKind(prep);
    if (kind === 'dense-first' && (pool[0] ?? 1) === 1) return pooledDenseFirstPlan(prep, threat, pool, differentiable);
    if (kind === 'conv-window') return pooledConvWindowPlan(prep, threat, pool);
  }
  return pooledNaivePlan(prep, threat, pool);
}

const ROW_BUDGET_FLOATS = 6_000_000;

function withPooledPasses<T>(fn: string, model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: PatchThreat, options: PooledMarginOptions, body: (plan: PooledMarginPlan, forEach: (visit: (m: tf.Tensor3D) => void) => void) => T): T {
  assert(options !== null && typeof options === 'object', () => `Error in ${fn}: options must be an object with pool and eps, but got ${String(options)}.`, 'INVALID_OPTION');
  const method = options.method ?? 'fast';
  const args = checkArgs(fn, model, images, labels, threat, options.eps, method);
  assert(threat.kind === 'patch', () => `Error in ${fn}: threat must be a patch threat (pooling groups adjacent locations), but got ${(threat as { kind?: string }).kind}.`, 'INVALID_OPTION');
  const pool = checkPool(options.pool, model, threat, fn);
  checkChunk(options.chunk, fn);
  const batch = images.shape[0];
  const gradients = options.gradients ?? true;
  const prep: PreparedBatch = { ...prepareBatch(model, images, args.labels, options.eps), ...(gradients ? {} : { hostLabels: args.labels }) };
  const plan = createPooledPlan(prep, threat, pool, args.method, gradients);
  try {
    const [, gw] = threat.grid(args.height, args.width);
    // Bands of final block rows: each holds span location rows of every column.
    const rowsPerBlockRow = plan.span * gw * batch;
    const budget = options.chunk ?? Math.max(1, Math.floor(ROW_BUDGET_FLOATS / Math.max(1, plan.rowCost)));
    const step = Math.max(1, Math.min(plan.grid[0], Math.floor(budget / rowsPerBlockRow)));
    return body(plan, (visit) => {
      for (let j0 = 0; j0 < plan.grid[0]; j0 += step) visit(plan.margins(j0, Math.min(plan.grid[0], j0 + step)));
    });
  } finally {
    plan.dispose();
    disposeBatch(prep);
  }
}

/**
 * Pooled margin lower bounds per final block: for image b, block s (row-major over the
 * {@link pooledGrid}) and class j, a lower bound of z_y − z_j over every input the threat allows
 * at any location of the block (0 at j = y). Each pooled box contains every member's box, so the
 * bound is ≤ every member location's own bound: sound, and looser than per-location margins.
 * Differentiable w.r.t. the model's variables (unless `gradients: false`).
 *
 * @param threat - a patch threat over the full location grid.
 * @returns `[batch, blocks, classes]`.
 * @throws PatchcertError `INVALID_OPTION` (pool, eps, method, chunk, restricted threat),
 *   `SHAPE_MISMATCH` (images/labels), `INVALID_ARGUMENT` (patch larger than the image).
 * @example
 * const m = pooledLocationMargins(model, images, labels, squarePatch(2), { pool: [2], eps: 1 }); // [B, 196, 10]
 */
export function pooledLocationMargins(model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: PatchThreat, options: PooledMarginOptions): tf.Tensor3D {
  return tf.tidy(() =>
    withPooledPasses('pooledLocationMargins', model, images, labels, threat, options, (_plan, forEach) => {
      const parts: tf.Tensor3D[] = [];
      forEach((m) => parts.push(m));
      return parts.length === 1 ? parts[0]! : (tf.concat(parts, 1) as tf.Tensor3D);
    }),
  );
}

/**
 * Worst-case pooled margins: the element-wise minimum over blocks per class j, 0 in the y slot;
 * a lower bound of {@link worstMargins} over all locations. Differentiable, memory-flat over
 * bands of blocks (a running minimum).
 *
 * @returns `[batch, classes]`.
 * @throws PatchcertError as {@link pooledLocationMargins}.
 */
export function pooledWorstMargins(model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: PatchThreat, options: PooledMarginOptions): tf.Tensor2D {
  return tf.tidy(() =>
    withPooledPasses('pooledWorstMargins', model, images, labels, threat, options, (_plan, forEach) => foldMinOverLocations(forEach)),
  );
}
