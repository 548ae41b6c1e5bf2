import { tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { PatchThreat } from '../patch-threat.js';
import { createPlan, type BoundMethod } from './create-plan.js';
import { explicitOrigins, locationsPerPass, sharedOrigins } from './batch.js';
import { labelSortedBatches } from './label-sorted-passes.js';
import type { LocationBlocks } from './location-blocks.js';
import type { MarginPlan, PreparedBatch } from './prepared.js';

/**
 * Relative slack before a block is pruned: its bound must exceed the image's best exact margin by
 * more than this × max(1, |best|). Block bounds are ≤ their members' exact margins up to float
 * rounding (measured: never beyond 1e-5), so a true minimiser is never pruned, ties included.
 */
const PRUNE_RTOL = 1e-4;

/** What {@link prunedPasses} calls back with. */
export interface RowVisitor {
  /** Once per image batch, before its rounds (inside its tidy). `idx`: the images' indices. */
  batch?(prep: PreparedBatch, idx: Int32Array): void;
  /**
   * Once per computed (image, location): margins `data[off … off + classes)` of location `loc`
   * of image `img` (label `y`). Locations come in no particular order and may repeat.
   */
  row(img: number, y: number, loc: number, data: Float32Array, off: number): void;
}

/**
 * Exact margins at every location that can hold an image's worst margin, skipping the others by
 * branch and bound over blocks of locations: (1) each block's union threat bounds all its
 * members from below; (2) the exact margins at the image's lowest block give `best`, an upper
 * bound of the image's worst margin; (3) only locations whose block bound is ≤ best (plus
 * {@link PRUNE_RTOL}) are computed. A skipped location's margins are all ≥ its block's bound
 * > best ≥ the worst, so the minimum over classes and locations, its first location and class,
 * and every NaN that reaches a block bound (a NaN bound counts as −∞, so its block is kept) are
 * those of the full loop. Images go through as in {@link labelSortedBatches}.
 */
export function prunedPasses(
  model: SequentialModel, images: tf.Tensor4D, labels: Int32Array, threat: PatchThreat, blocks: LocationBlocks,
  options: { eps: number; method: BoundMethod; chunk: number | undefined; imageBatch: number }, visit: RowVisitor,
): void {
  const [, h, w] = images.shape;
  const total = threat.locations(h, w);
  const classes = model.numClasses;
  labelSortedBatches(model, images, labels, options, (prep, idx, y) => {
    const bn = idx.length;
    visit.batch?.(prep, idx);
    const low = blockBounds(prep, blocks, y, classes, options);
    const plan = createPlan(prep, threat, options.method, false);
    try {
      const best = new Float64Array(bn).fill(Infinity);
      const done = new Uint8Array(bn * total);
      // Exact margins at per-image locations `locs` `[bn · k]`, in passes.
      const exact = (locs: Int32Array, k: number): void => {
        const step = locationsPerPass(plan, bn, k, options.chunk);
        for (let j0 = 0; j0 < k; j0 += step) {
          const j1 = Math.min(k, j0 + step);
          const kk = j1 - j0;
          const data = readMargins(plan, explicitOrigins(threat, h, w, bn, locs, k, j0, j1));
          for (let b = 0; b < bn; b++) {
            const yb = y[b]!;
            for (let j = j0; j < j1; j++) {
              const loc = locs[b * k + j]!;
              const off = (b * kk + j - j0) * classes;
              done[b * total + loc] = 1;
              visit.row(idx[b]!, yb, loc, data, off);
              for (let c = 0; c < classes; c++) if (c !== yb && data[off + c]! < best[b]!) best[b] = data[off + c]!;
            }
          }
        }
      };

      // (2) Every location of each image's lowest block (the first, on ties).
      const first = new Int32Array(bn * blocks.size);
      for (let b = 0; b < bn; b++) {
        let kb = 0;
        for (let q = 1; q < blocks.count; q++) if (low[b * blocks.count + q]! < low[b * blocks.count + kb]!) kb = q;
        first.set(blocks.covered.subarray(kb * blocks.size, (kb + 1) * blocks.size), b * blocks.size);
      }
      exact(first, blocks.size);

      // (3) The locations whose block bound does not exceed the image's best exact margin.
      const lists: number[][] = [];
      for (let b = 0; b < bn; b++) {
        const limit = best[b]! + PRUNE_RTOL * Math.max(1, Math.abs(best[b]!));
        const list: number[] = [];
        for (let l = 0; l < total; l++) {
          if (!done[b * total + l] && !(low[b * blocks.count + blocks.blockOf[l]!]! > limit)) list.push(l);
        }
        lists.push(list);
      }
      const k = Math.max(...lists.map((l) => l.length));
      if (k === 0) return;
      // Equal lengths for the plan: shorter lists repeat a location of their own (a repeat
      // changes no minimum).
      const locs = new Int32Array(bn * k);
      lists.forEach((list, b) => {
        const pad = list[0] ?? first[b * blocks.size]!;
        for (let j = 0; j < k; j++) locs[b * k + j] = j < list.length ? list[j]! : pad;
      });
      exact(locs, k);
    } finally {
      plan.dispose();
    }
  });
}

/** The margins of one pass on the host (the plan's tensor freed). */
function readMargins(plan: MarginPlan, origins: Parameters<MarginPlan['margins']>[0]): Float32Array {
  const m = plan.margins(origins);
  const data = m.dataSync() as Float32Array;
  m.dispose();
  return data;
}

/**
 * Per image and block, the block's union-threat margin lower bound, minimum over classes j ≠ y
 * (`[batch · blocks]`); NaN becomes −∞ so that its block is never pruned.
 */
function blockBounds(prep: PreparedBatch, blocks: LocationBlocks, y: Int32Array, classes: number, options: { method: BoundMethod; chunk: number | undefined }): Float64Array {
  const [bn, h, w] = prep.pixels.shape;
  const low = new Float64Array(bn * blocks.count).fill(Infinity);
  const plan = createPlan(prep, blocks.union, options.method, false);
  try {
    const step = locationsPerPass(plan, bn, blocks.count, options.chunk);
    for (let q0 = 0; q0 < blocks.count; q0 += step) {
      const q1 = Math.min(blocks.count, q0 + step);
      const kk = q1 - q0;
      const data = readMargins(plan, sharedOrigins(blocks.union, h, w, bn, q0, q1));
      for (let b = 0; b < bn; b++) {
        for (let q = q0; q < q1; q++) {
          const off = (b * kk + q - q0) * classes;
          let m = Infinity;
          for (let c = 0; c < classes; c++) {
            if (c === y[b]) continue;
            const v = data[off + c]!;
            if (Number.isNaN(v)) {
              m = -Infinity;
              break;
            }
            if (v < m) m = v;
          }
          low[b * blocks.count + q] = m;
        }
      }
    }
  } finally {
    plan.dispose();
  }
  return low;
}
