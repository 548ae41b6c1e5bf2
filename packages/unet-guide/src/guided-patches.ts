import { tf, normalizeImages, assert, PatchcertError } from '@patchcert/backend';
import type { MarginStrategy, MarginStrategyContext, ThreatModel } from '@patchcert/bounds';
import { UNetGuide, type UNetGuideOptions, type UNetGuideState } from './unet-guide.js';
import { UNetGuidePool } from './unet-guide-pool.js';
import type { GuidedSample } from './guided-sampler.js';
import { locationMargins, minOverLocations, threatGrid, type LocationMarginsFn } from './internal/bounds-api.js';

/** Options of {@link guidedPatches}; every optional field has the default listed. */
export interface GuidedPatchesOptions {
  /**
   * Patches per image, the paper's guided(k): k/classes locations drawn per class, so 10
   * (guide10) or 20 (guide20) for ten classes. Must be a multiple of the class count.
   */
  k: number;
  /** The patch threat (`squarePatch(n)`, a rectangle or shape); when omitted, the context's `threat`. */
  threat?: ThreatModel;
  /** T in softmax(−T·prediction). @defaultValue 1 */
  temperature?: number;
  /** U-Net base width. @defaultValue 6 for one input channel, 10 otherwise */
  baseWidth?: number;
  /**
   * The U-Net's Adam step size until the context carries `lr` (the reference uses the
   * classifier's rate and its StepLR). @defaultValue 5e-4
   */
  learningRate?: number;
  /** Seed of the U-Net's initialization (pass `rng.seed()` of the run). @defaultValue 0 */
  seed?: number;
  /** Reference quirk Q1: sum U-Net gradients over an epoch. @defaultValue false */
  accumulateGradients?: boolean;
  /** Reference quirk Q2: transposed index → coordinates. @defaultValue false */
  transposeCoordinates?: boolean;
  /**
   * Worker threads that train the U-Net data-parallel, each on a slice of every batch
   * ({@link UNetGuidePool}); 1 keeps it in this thread. Same draws and, up to float summation
   * order, the same updates either way, and checkpoints move between the two.
   * @defaultValue 1
   */
  workers?: number;
  /**
   * Per-location bounds `[B, L, classes]` (to wrap or instrument them).
   * @defaultValue bounds' `locationMargins` (fast exact path)
   */
  locationMargins?: LocationMarginsFn;
}

function classesOf(g: UNetGuide | UNetGuidePool): number {
  return g instanceof UNetGuidePool ? g.classes : g.unet.classes;
}

/** Context fields the guided strategy reads when the trainer provides them. */
interface OptionalContext {
  threat?: ThreatModel;
  /** Epoch index: a change zeroes the summed gradients of `accumulateGradients`. */
  epoch?: number;
  /** The classifier's current learning rate, applied to the U-Net's Adam too (§7.4). */
  lr?: number;
}

/** {@link guidedPatches}'s strategy: a MarginStrategy plus access to its U-Net. */
export interface GuidedPatchStrategy extends MarginStrategy {
  /** The U-Net and its optimizer, built at the first batch (or by `setState`); null with workers. */
  readonly guide: UNetGuide | null;
  /** The worker threads' U-Net replicas (`workers` > 1), built at the first batch; else null. */
  readonly pool: UNetGuidePool | null;
  /** MSE of the U-Net's last update, NaN before the first (with workers, waits for that update). */
  readonly lastUNetLoss: number;
  /** Locations bounded per image in the last batch (after merging repeated picks). */
  readonly lastLocationsPerImage: number;
  /** Zeroes the summed U-Net gradients (with `accumulateGradients`); for trainers without `ctx.epoch`. */
  startEpoch(): void;
  getState(): Promise<Record<string, unknown>>;
  setState(state: Record<string, unknown>): Promise<void>;
  dispose(): void;
}

/**
 * Guided certificate training (reference `patch-nn`, §7): per batch a U-Net predicts every
 * location's margin lower bounds, k/classes locations per (image, class) are drawn from
 * softmax(−T·prediction) without replacement, repeated picks within an image are merged, and
 * the margins are the per-class minimum of the IBP bounds over those locations (0 at y). In a
 * training batch the U-Net is then fitted by MSE to the detached bounds of that batch, on the
 * forward pass it sampled from (no afterStep).
 *
 * @returns a MarginStrategy to hand to the trainer (its state holds the U-Net, BN running
 *   statistics and Adam, so checkpoints resume guided training exactly).
 * @throws PatchcertError `INVALID_OPTION` when k is not a positive integer (or, at the first
 *   batch, not a multiple of the class count).
 * @example
 * const strategy = guidedPatches({ k: 10, threat: squarePatch(2), learningRate: 5e-4, seed: rng.seed() });
 * const m = strategy.margins({ model, images, labels, eps, rng, training: true }); // [B, 10]; the U-Net is updated too
 */
export function guidedPatches(options: GuidedPatchesOptions): GuidedPatchStrategy {
  const { k } = options;
  assert(Number.isInteger(k) && k >= 1, () => `Error in guidedPatches: k must be a positive integer, but got ${k}.`, 'INVALID_OPTION');
  const bound: LocationMarginsFn = options.locationMargins ?? locationMargins;
  const workers = options.workers ?? 1;
  assert(Number.isInteger(workers) && workers >= 1, () => `Error in guidedPatches: workers must be a positive integer, but got ${workers}.`, 'INVALID_OPTION');
  let guide: UNetGuide | null = null;
  let pool: UNetGuidePool | null = null;
  let lastEpoch: number | undefined;
  let lastUNetLoss = Number.NaN;
  let lastLocationsPerImage = 0;

  const threatOf = (ctx: MarginStrategyContext): ThreatModel => {
    const t = options.threat ?? (ctx as MarginStrategyContext & OptionalContext).threat;
    if (!t) throw new PatchcertError('INVALID_ARGUMENT', 'Error in guidedPatches: a threat must be given to the strategy or in its context, but got none.');
    return t;
  };

  const ensureGuide = (ctx: MarginStrategyContext): UNetGuide | UNetGuidePool => {
    const [, h, w, c] = ctx.images.shape;
    const classes = ctx.model.numClasses;
    if (k % classes !== 0) {
      throw new PatchcertError('INVALID_OPTION', `Error in guidedPatches: k must be a multiple of the ${classes} classes (k/classes draws per class), but got ${k}.`);
    }
    const { patch } = threatGrid(threatOf(ctx), h, w, 'guidedPatches');
    let g = pool ?? guide;
    if (!g) {
      const guideOptions: UNetGuideOptions = {
        inputShape: [h, w, c],
        patch,
        classes,
        drawsPerClass: k / classes,
        ...(options.baseWidth !== undefined ? { baseWidth: options.baseWidth } : {}),
        seed: options.seed ?? 0,
        learningRate: options.learningRate ?? 5e-4,
        temperature: options.temperature ?? 1,
        accumulateGradients: options.accumulateGradients ?? false,
        transposeCoordinates: options.transposeCoordinates ?? false,
      };
      g = workers > 1 ? (pool = new UNetGuidePool({ ...guideOptions, workers })) : (guide = new UNetGuide(guideOptions));
    } else if (g.patch[0] !== patch[0] || g.patch[1] !== patch[1] || classesOf(g) !== classes) {
      throw new PatchcertError('SHAPE_MISMATCH', `Error in guidedPatches: the batch must match the U-Net's ${g.patch.join('×')} patch and ${classesOf(g)} classes, but got ${patch.join('×')} and ${classes}.`);
    }
    const extra = ctx as MarginStrategyContext & OptionalContext;
    if (typeof extra.epoch === 'number' && extra.epoch !== lastEpoch) {
      if (lastEpoch !== undefined) g.startEpoch();
      lastEpoch = extra.epoch;
    }
    if (typeof extra.lr === 'number' && extra.lr > 0) g.learningRate = extra.lr;
    return g;
  };

  return {
    name: `guided(${k})`,
    get guide() {
      return guide;
    },
    get pool() {
      return pool;
    },
    get lastUNetLoss() {
      return pool ? pool.lastLoss : lastUNetLoss;
    },
    get lastLocationsPerImage() {
      return lastLocationsPerImage;
    },
    margins(ctx: MarginStrategyContext): tf.Tensor2D {
      const g = ensureGuide(ctx);
      const locationBounds = (sample: GuidedSample): tf.Tensor3D =>
        bound(ctx.model, ctx.images, ctx.labels, threatOf(ctx), { locations: sample.locations, eps: ctx.eps });
      const x = normalizeImages(ctx.images, ctx.model.metadata.normalization);
      let lm: tf.Tensor3D | undefined;
      try {
        const keepBounds = (sample: GuidedSample) => {
          lm = tf.keep(locationBounds(sample));
          return lm.dataSync();
        };
        if (ctx.training && g instanceof UNetGuidePool) {
          // The workers fit their replicas while this thread runs the classifier's backward pass.
          lastLocationsPerImage = g.sampleAndStartFit(x, ctx.rng, keepBounds).width;
        } else if (ctx.training) {
          // The U-Net is fitted here, on the forward pass it sampled from, rather than in
          // afterStep (a second forward pass). Its inputs are the same either way: the U-Net's
          // weights, these images and the classifier's bounds before the classifier's step.
          const r = (g as UNetGuide).sampleAndFit(x, ctx.rng, keepBounds);
          lastLocationsPerImage = r.sample.width;
          lastUNetLoss = r.loss;
        } else {
          const sample = g instanceof UNetGuidePool ? g.sample(x, ctx.rng) : g.sample(x, ctx.rng, false);
          lastLocationsPerImage = sample.width;
          lm = locationBounds(sample);
        }
      } catch (e) {
        lm?.dispose();
        throw e;
      } finally {
        x.dispose();
      }
      const bounds = lm!;
      return tf.tidy(() => {
        // An image's row repeats its first location past its distinct ones: tf.min would hand
        // the gradient to every copy, minOverLocations hands it to one, as the reference's min(dim).
        const m = minOverLocations(bounds);
        bounds.dispose();
        return m;
      });
    },
    startEpoch(): void {
      (pool ?? guide)?.startEpoch();
    },
    async getState(): Promise<Record<string, unknown>> {
      const g = pool ?? guide;
      return g ? { guide: g.getState(), ...(lastEpoch !== undefined ? { epoch: lastEpoch } : {}) } : {};
    },
    async setState(state: Record<string, unknown>): Promise<void> {
      const saved = state['guide'] as UNetGuideState | undefined;
      if (!saved) return;
      if (workers > 1) {
        assert(saved?.config, () => 'Error in guidedPatches.setState: state.guide.config must be present, but got none.', 'DATA_FORMAT');
        const next = new UNetGuidePool({ ...saved.config, workers, state: saved });
        pool?.dispose();
        pool = next;
      } else {
        const next = UNetGuide.fromState(saved);
        guide?.dispose();
        guide = next;
      }
      lastEpoch = typeof state['epoch'] === 'number' ? state['epoch'] : undefined;
    },
    dispose(): void {
      guide?.dispose();
      guide = null;
      pool?.dispose();
      pool = null;
    },
  };
}
