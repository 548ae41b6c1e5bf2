import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { ThreatModel } from './threat-model.js';
import type { PatchThreat } from './patch-threat.js';
import type { LabelsLike } from './internal/labels.js';
import { createPlan, fastPlanKind, type BoundMethod } from './internal/create-plan.js';
import { denseFirstRowsPlan } from './internal/dense-first-rows-plan.js';
import { checkArgs, checkChunk, disposeBatch, explicitOrigins, locationsPerPass, prepareBatch, sharedOrigins } from './internal/batch.js';
import type { MarginPlan } from './internal/prepared.js';
import { worstCandidates } from './internal/worst-candidates.js';
import { foldMinOverLocations } from './internal/min-over-locations.js';

/** Options of {@link locationMargins} and {@link worstMargins}. */
export interface MarginOptions {
  /**
   * Which locations: `'all'` (every location of the threat, the same for every image) or
   * per-image location indices `[batch · k]` (image-major; k per image; repeats allowed).
   * Ignored by the sparse threat (it has one "location").
   * @defaultValue 'all'
   */
  locations?: 'all' | Int32Array;
  /** Schedule value: patch pixels range over `[max(0,x−eps), min(1,x+eps)]`. */
  eps: number;
  /**
   * `'fast'`: exact local computation (dense-first box sums, conv receptive windows);
   * `'naive'`: every location's full box through every layer. Equal to float tolerance.
   * With explicit locations covering under 1/8 of all locations, `'fast'` runs the naive plan
   * (cheaper for a few rows per image).
   * @defaultValue 'fast'
   */
  method?: BoundMethod;
  /** Bound rows (image × location pairs) per pass; bounds memory. @defaultValue automatic (~24 MB per tensor) */
  chunk?: number;
}

interface Passes {
  plan: MarginPlan;
  /** Runs `visit` on every pass's margins `[batch, k, classes]`. */
  forEach(visit: (m: tf.Tensor3D) => void): void;
  perImage: number;
}

function withPasses<T>(fn: string, model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: ThreatModel, options: MarginOptions, body: (p: Passes) => T): T {
  assert(options !== null && typeof options === 'object', () => `Error in ${fn}: options must be an object with eps, but got ${String(options)}.`, 'INVALID_OPTION');
  const method = options.method ?? 'fast';
  const args = checkArgs(fn, model, images, labels, threat, options.eps, method);
  checkChunk(options.chunk, fn);
  const batch = images.shape[0];
  const { height: h, width: w } = args;
  const locs = options.locations ?? 'all';
  let perImage: number;
  if (threat.kind === 'sparse') {
    perImage = 1;
  } else if (locs === 'all') {
    perImage = threat.locations(h, w);
  } else {
    assert(locs instanceof Int32Array, () => `Error in ${fn}: options.locations must be 'all' or an Int32Array [batch · k], but got ${Object.prototype.toString.call(locs)}.`, 'INVALID_OPTION');
    assert(batch > 0 && locs.length > 0 && locs.length % batch === 0,
      () => `Error in ${fn}: options.locations must hold k ≥ 1 indices per image (length a multiple of ${batch}), but got length ${locs.length}.`, 'SHAPE_MISMATCH');
    const total = threat.locations(h, w);
    for (let i = 0; i < locs.length; i++) {
      const v = locs[i]!;
      assert(v >= 0 && v < total, () => `Error in ${fn}: options.locations must be indices in [0, ${total - 1}], but got ${v} at ${i}.`);
    }
    perImage = locs.length / batch;
  }
  // A few explicit locations per image (random-k training): the full boxes of those few rows
  // cost less than the fast plans' per-image set-up (measured, wasm: MLP k=10, batch 64:
  // naive 70 ms vs fast 1.1 s per step with gradients), and the results are equal.
  const total = threat.kind === 'patch' ? threat.locations(h, w) : 1;
  const resolved = args.method === 'fast' && locs !== 'all' && perImage * 8 < total ? 'naive' : args.method;
  const prep = prepareBatch(model, images, args.labels, options.eps);
  // Few rows of an MLP: sum each row's own patch pixels of the first dense layer (exact, and far
  // cheaper than full boxes through [in, units]; measured below). Few rows of a CNN: the
  // conv-window plan, whose taped rows now cost less than full boxes (random(10), 4-layer CNN,
  // batch 256: 380-407 vs 223-236 images per CPU-second).
  const fewRows = resolved === 'naive' && args.method === 'fast' && threat.kind === 'patch';
  const kind = fewRows ? fastPlanKind(prep) : undefined;
  const plan = kind === 'dense-first' ? denseFirstRowsPlan(prep, threat as PatchThreat) : createPlan(prep, threat, kind === 'conv-window' ? 'fast' : resolved, true);
  try {
    const step = threat.kind === 'sparse' ? 1 : locationsPerPass(plan, batch, perImage, options.chunk);
    return body({
      plan,
      perImage,
      forEach(visit) {
        for (let j0 = 0; j0 < perImage; j0 += step) {
          const j1 = Math.min(perImage, j0 + step);
          const origins = locs === 'all' || threat.kind === 'sparse'
            ? sharedOrigins(threat, h, w, batch, j0, j1)
            : explicitOrigins(threat, h, w, batch, locs, perImage, j0, j1);
          visit(plan.margins(origins));
        }
      },
    });
  } finally {
    plan.dispose();
    disposeBatch(prep);
  }
}

/**
 * Margin lower bounds at every requested location: for image b, location l and class j, a
 * lower bound of z_y − z_j over every input the threat allows at that location (0 at j = y).
 * Differentiable w.r.t. the model's variables (no TopK/GatherNd/StridedSlice on the path).
 *
 * @param model - the network (last layer dense).
 * @param images - pixel images `[batch, height, width, channels]` in [0,1].
 * @param labels - true classes `[batch]`.
 * @param threat - `squarePatch(n)`, `shapePatch(mask)`, `namedShape(…)`, `sparsePixels(k)`.
 * @returns `[batch, locations, classes]` (locations = 1 for the sparse threat).
 * @throws PatchcertError `SHAPE_MISMATCH` (images/labels/locations shape), `INVALID_ARGUMENT`
 *   (patch larger than the image, bad location index), `INVALID_OPTION` (eps, method, chunk).
 * @example
 * const m = locationMargins(model, images, labels, squarePatch(2), { eps: 1 }); // [B, 729, 10]
 */
export function locationMargins(model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: ThreatModel, options: MarginOptions): tf.Tensor3D {
  return tf.tidy(() =>
    withPasses('locationMargins', model, images, labels, threat, options, (p) => {
      const parts: tf.Tensor3D[] = [];
      p.forEach((m) => parts.push(m));
      return parts.length === 1 ? parts[0]! : (tf.concat(parts, 1) as tf.Tensor3D);
    }),
  );
}

/**
 * Worst-case margin lower bounds: the element-wise minimum over the requested locations,
 * separately for each class j (reference-spec §6.2), with 0 in the y slot. This is what the
 * training loss uses (`CE(−m, y)`); differentiable w.r.t. the model's variables and memory-flat
 * over locations (passes are folded into a running minimum).
 *
 * @returns `[batch, classes]`.
 * @throws PatchcertError as {@link locationMargins}.
 * @example
 * const { value, grads } = tf.variableGrads(() =>
 *   tf.losses.softmaxCrossEntropy(oneHot, tf.neg(worstMargins(model, x, y, squarePatch(2), { eps }))));
 */
export function worstMargins(model: SequentialModel, images: tf.Tensor4D, labels: LabelsLike, threat: ThreatModel, options: MarginOptions): tf.Tensor2D {
  return tf.tidy(() => {
    if (options !== null && typeof options === 'object' && (options.locations ?? 'all') === 'all' && threat?.kind === 'patch' && (options.method ?? 'fast') === 'fast') {
      // Every location (all-patch training): rank the locations on the host first and bound only
      // each image's possible minimisers on the gradient tape (same minimum, same gradients; the
      // backward pass over every location was most of a training step).
      const args = checkArgs('worstMargins', model, images, labels, threat, options.eps, 'fast');
      checkChunk(options.chunk, 'worstMargins');
      const total = threat.locations(args.height, args.width);
      // At most 2 candidates per class on the tape: near-ties beyond that (small eps, where many
      // locations sit within the rounding tolerance of the minimum) take each class's first
      // minimiser instead, so the taped rows, and their memory, stay small (5×5, batch 256, eps
      // 0.001 kept 72 rows per image and ran the wasm heap out of its 4 GB).
      const locations = worstCandidates(model, images, args.labels, threat, options.eps, options.chunk, Math.min(Math.floor(total / 8), 2 * model.numClasses));
      if (locations) return worstMargins(model, images, args.labels, threat, { ...options, locations });
    }
    return withPasses('worstMargins', model, images, labels, threat, options, (p) => foldMinOverLocations((visit) => p.forEach(visit)));
  });
}
