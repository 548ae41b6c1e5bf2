import { tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { PatchThreat } from '../patch-threat.js';
import { createPlan, type BoundMethod } from './create-plan.js';
import { disposeBatch, explicitOrigins, locationsPerPass, prepareBatch, sharedOrigins } from './batch.js';
import { labelSortedBatches, sharedPasses } from './label-sorted-passes.js';
import type { LocationBlocks } from './location-blocks.js';
import type { MarginPlan, PreparedBatch } from './prepared.js';

/**
 * Relative slack before a block is pruned: its bound must exceed the image's best exact margin by
 * more than this × max(1, |best|). Block bounds are ≤ their members' exact margins up to float
 * rounding (measured: never beyond 1e-5), so a true minimiser is never pruned, ties included.
 */
const PRUNE_RTOL = 1e-4;

/**
 * Shares of each image's remaining candidates (lowest block bounds first) computed per round of
 * the exact step; the last round takes every candidate left. Shipped models, 64 MNIST test images,
 * 2×2 patch, exact rows per image after the first block: one round 286 (4-layer CNN) and 234
 * (MLP) of 729; [0.25, 1] 229 and 191; [0.4, 1], [0.15, 1] and three rounds within 2 % of that.
 */
const EXACT_ROUNDS = [0.25, 1];

/**
 * Share of the locations (block bounds plus exact candidates per image) above which pruning is
 * dropped: random-init 4-layer CNN on uniform noise, 5×5 patch: 144 blocks + 531 candidates of 576
 * locations, and the pruned run took 1.6× the CPU time of the full one; shipped MNIST CNN, 2×2:
 * 196 + 290 of 729.
 */
const GIVE_UP = 0.85;

/** Pruning stops for good once at least this many batches failed and they are over GIVE_UP_SHARE of the batches seen. */
const GIVE_UP_AFTER = 4;
const GIVE_UP_SHARE = 0.75;

/** Largest padded / real row ratio of a group of images in the exact round. */
const PAD_SLACK = 1.25;

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
  options: { eps: number; method: BoundMethod; chunk: number | undefined; imageBatch: number; adaptive: boolean }, visit: RowVisitor,
): void {
  const [, h, w] = images.shape;
  const total = threat.locations(h, w);
  const classes = model.numClasses;
  // With `adaptive`, pruning stays on while it pays: a batch where the blocks and the candidates
  // left after the first block come to over GIVE_UP of the locations computes every location,
  // and once most batches so far did, so do the batches after it. Batches come in label order,
  // so a hard label fails a few in a row (shipped MNIST CNN: the 1s, 0.94-0.97, while the
  // other labels need 0.50-0.80); stopping at the first failure dropped pruning for the rest
  // of a 1,000-image run (26.6 vs 19.0 CPU-s forced).
  let pruning = true;
  let seen = 0;
  let failed = 0;
  labelSortedBatches(model, images, labels, options, (prep, idx, y) => {
    const bn = idx.length;
    visit.batch?.(prep, idx);
    const low = pruning ? blockBounds(prep, blocks, y, classes, options) : null;
    const plan = createPlan(prep, threat, options.method, false);
    try {
      const best = new Float64Array(bn).fill(Infinity);
      const done = new Uint8Array(bn * total);
      // Folds one pass: row i of `data` is image `imgs[i]` (batch position) at location `locs[i]`.
      const take = (data: Float32Array, imgs: ArrayLike<number>, locs: ArrayLike<number>): void => {
        for (let i = 0; i < imgs.length; i++) {
          const b = imgs[i]!;
          const yb = y[b]!;
          const loc = locs[i]!;
          const off = i * classes;
          done[b * total + loc] = 1;
          visit.row(idx[b]!, yb, loc, data, off);
          for (let c = 0; c < classes; c++) if (c !== yb && data[off + c]! < best[b]!) best[b] = data[off + c]!;
        }
      };
      // Exact margins with `p`, a plan over the batch's images `members`, at per-image
      // locations `locs` `[members.length · k]`, in passes.
      const exact = (p: MarginPlan, members: Int32Array, locs: Int32Array, k: number): void => {
        const step = locationsPerPass(p, members.length, k, options.chunk);
        for (let j0 = 0; j0 < k; j0 += step) {
          const j1 = Math.min(k, j0 + step);
          const kk = j1 - j0;
          const imgs = new Int32Array(members.length * kk);
          const at = new Int32Array(members.length * kk);
          members.forEach((b, s) => {
            imgs.fill(b, s * kk, (s + 1) * kk);
            at.set(locs.subarray(s * k + j0, s * k + j1), s * kk);
          });
          take(readMargins(p, explicitOrigins(threat, h, w, members.length, locs, k, j0, j1)), imgs, at);
        }
      };

      const all = (): void =>
        sharedPasses(plan, threat, h, w, bn, total, options.chunk, (l0, k, data) => {
          const imgs = Int32Array.from({ length: bn * k }, (_, i) => Math.floor(i / k));
          take(data, imgs, Int32Array.from(imgs, (_, i) => l0 + (i % k)));
        });
      if (!low) {
        all();
        return;
      }

      // (2) Every location of each image's lowest block (the first, on ties).
      const first = new Int32Array(bn * blocks.size);
      for (let b = 0; b < bn; b++) {
        let kb = 0;
        for (let q = 1; q < blocks.count; q++) if (low[b * blocks.count + q]! < low[b * blocks.count + kb]!) kb = q;
        first.set(blocks.covered.subarray(kb * blocks.size, (kb + 1) * blocks.size), b * blocks.size);
      }
      exact(plan, Int32Array.from({ length: bn }, (_, b) => b), first, blocks.size);

      // Exact margins at per-image lists of locations.
      const round = (lists: number[][]): void => {
        if (plan.rowImages) {
          // Every image's list back to back, each row with its own image: no padding.
          const imgs = Int32Array.from(lists.flatMap((list, b) => list.map(() => b)));
          const locs = Int32Array.from(lists.flat());
          const step = locationsPerPass(plan, 1, imgs.length, options.chunk);
          for (let r0 = 0; r0 < imgs.length; r0 += step) {
            const r1 = Math.min(imgs.length, r0 + step);
            const at = locs.subarray(r0, r1);
            const origins = explicitOrigins(threat, h, w, 1, at, r1 - r0, 0, r1 - r0);
            take(readMargins(plan, { ...origins, images: imgs.subarray(r0, r1) }), imgs.subarray(r0, r1), at);
          }
          return;
        }
        for (const { members, locs, k } of paddedGroups(lists)) {
          if (members.length === bn) {
            exact(plan, members, locs, k);
            continue;
          }
          const sub = subBatch(prep, members, options.eps);
          const subPlan = createPlan(sub, threat, options.method, false);
          try {
            exact(subPlan, members, locs, k);
          } finally {
            subPlan.dispose();
            disposeBatch(sub);
            sub.pixels.dispose();
          }
        }
      };
      // (3) The locations whose block bound does not exceed the image's best exact margin, in
      // rounds: first the lowest-bound share of each image's candidates (where its worst margin
      // most likely is), which lowers `best`, then the candidates that are left under it.
      const candidates = (b: number): number[] => {
        const limit = best[b]! + PRUNE_RTOL * Math.max(1, Math.abs(best[b]!));
        const list: number[] = [];
        for (let l = 0; l < total; l++) if (!done[b * total + l] && !(low[b * blocks.count + blocks.blockOf[l]!]! > limit)) list.push(l);
        return list;
      };
      let lists = Array.from({ length: bn }, (_, b) => candidates(b));
      seen++;
      if (options.adaptive && blocks.count + lists.reduce((a, l) => a + l.length, 0) / bn > GIVE_UP * total) {
        if (++failed >= GIVE_UP_AFTER && failed > GIVE_UP_SHARE * seen) pruning = false;
        all();
        return;
      }
      for (const share of EXACT_ROUNDS) {
        if (share < 1) {
          lists = lists.map((list, b) => {
            const bound = (l: number) => low[b * blocks.count + blocks.blockOf[l]!]!;
            return [...list].sort((p, q) => bound(p) - bound(q) || p - q).slice(0, Math.ceil(share * list.length));
          });
        }
        round(lists);
        if (share < 1) lists = Array.from({ length: bn }, (_, b) => candidates(b));
      }
    } finally {
      plan.dispose();
    }
  });
}

/**
 * The images with a non-empty list in groups of similar list lengths, each list padded to its
 * group's longest by repeating its own first location (a repeat changes no minimum), at most
 * {@link PAD_SLACK} × the group's real rows: the plans take the same number of locations per
 * image, and candidate counts vary 2–3× within a batch (4-layer CNN, MNIST: longest 572–662,
 * mean 262–310 of 729), so one padded batch did twice the work. Members are in batch order (a
 * group of every image runs on the batch's own plan); `locs` is `[members.length · k]`.
 */
export function paddedGroups(lists: number[][]): { members: Int32Array; locs: Int32Array; k: number }[] {
  const order = lists.map((_, b) => b).filter((b) => lists[b]!.length > 0).sort((a, b) => lists[b]!.length - lists[a]!.length || a - b);
  const groups: { members: Int32Array; locs: Int32Array; k: number }[] = [];
  for (let i = 0; i < order.length; ) {
    const k = lists[order[i]!]!.length;
    let rows = 0;
    let j = i;
    while (j < order.length && (j - i + 1) * k <= PAD_SLACK * (rows + lists[order[j]!]!.length)) rows += lists[order[j++]!]!.length;
    const members = Int32Array.from(order.slice(i, j)).sort();
    const locs = new Int32Array(members.length * k);
    members.forEach((b, s) => {
      const list = lists[b]!;
      for (let q = 0; q < k; q++) locs[s * k + q] = list[q < list.length ? q : 0]!;
    });
    groups.push({ members, locs, k });
    i = j;
  }
  return groups;
}

/** Images `members` of a prepared batch as their own batch (the caller frees it and its pixels). */
function subBatch(prep: PreparedBatch, members: Int32Array, eps: number): PreparedBatch {
  const [, h, w, c] = prep.pixels.shape;
  const size = h * w * c;
  const px = prep.pixels.dataSync() as Float32Array;
  const sub = new Float32Array(members.length * size);
  members.forEach((b, s) => sub.set(px.subarray(b * size, (b + 1) * size), s * size));
  const y = Int32Array.from(members, (b) => prep.hostLabels![b]!);
  return { ...prepareBatch(prep.model, tf.tensor4d(sub, [members.length, h, w, c]), y, eps), hostLabels: y };
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
