import { tf, Rng, PatchcertError } from '@patchcert/backend';
import type { Classifier } from './classifier.js';
import type { Defense } from './defense.js';
import type { PatchAttackResult } from './attack-result.js';
import { patchGeometry, locationGrid, describe, type PatchSpec, type PatchGeometry } from './patch-geometry.js';
import { checkImages, readLabels, checkInt, checkNumber, checkKeys, stripUndefined } from './internal/inputs.js';
import { predictClasses, resolveTargets, runAttack, type TargetSpec } from './internal/run-attack.js';

/** Where patches may go: see {@link PatchAttackOptions.placement}. */
export type Placement = 'corners' | 'random' | 'all';
export const PLACEMENTS: readonly Placement[] = ['corners', 'random', 'all'];

/** Options of {@link patchAttack}; every field is optional except `threat`. */
export interface PatchAttackOptions {
  /** The patch: `2`, `'2x2'`, `{ height, width, mask? }` or a bounds patch threat. */
  threat: PatchSpec;
  /**
   * `corners`: the four corner origins only (the paper's weak adversary; restarts cycle over
   * them). `random`: a fresh uniform origin per image and restart (the reference attack).
   * `all`: every origin, `restartsPerLocation` times each (exhaustive; for small images).
   * @defaultValue 'random'
   */
  placement?: Placement;
  /** Random restarts per image (`corners`, `random`). @defaultValue 80 */
  restarts?: number;
  /** Restarts at each origin with `placement: 'all'`. @defaultValue 1 */
  restartsPerLocation?: number;
  /** Sign-gradient steps per restart. @defaultValue 150 */
  steps?: number;
  /** Step in pixel units. @defaultValue 0.05 */
  stepSize?: number;
  /** Half-width of the uniform random start around the clean pixels (then clamped to [0,1]). @defaultValue 1 */
  randomStart?: number;
  /**
   * With `placement: 'random'`, draw origins like the reference (`row ~ U{0..H−p−1}`), which
   * never uses the last row/column of origins (reference quirk Q3). Off: every valid origin.
   * @defaultValue false
   */
  referenceQuirk?: boolean;
  /**
   * Targeted attack: one target class per image (each different from its label), or `'random'`
   * to draw them. The attack then minimises CE(target) and succeeds when the target is predicted.
   * @defaultValue undefined (untargeted: maximise CE(label))
   */
  targeted?: TargetSpec;
  /** Seed of the generator behind locations, random starts and random targets. @defaultValue 0 */
  seed?: number;
  /**
   * A pre-processing defense the attack goes through (adaptive: gradients flow through
   * `defense.apply`). Success is judged on the defended model.
   * @defaultValue undefined
   */
  defense?: Defense;
  /** Rows (image × restart) per forward/backward pass. @defaultValue 1024 */
  batchSize?: number;
  /**
   * Stop working on an image once it is fooled. The verdict is the same; only `bestLoss` and
   * the kept iterate differ from a run that spends every restart.
   * @defaultValue true
   */
  stopOnSuccess?: boolean;
}

/** The defaults of {@link patchAttack}, written out in full (reference §11.1). */
export const DEFAULT_PATCH_ATTACK = {
  placement: 'random' as Placement,
  restarts: 80,
  restartsPerLocation: 1,
  steps: 150,
  stepSize: 0.05,
  randomStart: 1,
  referenceQuirk: false,
  seed: 0,
  batchSize: 1024,
  stopOnSuccess: true,
} as const;

const KNOWN = ['threat', 'placement', 'restarts', 'restartsPerLocation', 'steps', 'stepSize', 'randomStart', 'referenceQuirk', 'targeted', 'seed', 'defense', 'batchSize', 'stopOnSuccess'];

/**
 * The patch origins tried for each restart: returns `[rowsOfAttack]` origin rows/cols and the
 * image of each attack row, restart-major (all images of restart 0, then restart 1, …) so an
 * early stop drops whole images from later chunks.
 */
function planLocations(
  g: PatchGeometry,
  B: number,
  H: number,
  W: number,
  placement: Placement,
  restarts: number,
  perLocation: number,
  quirk: boolean,
  rng: Rng,
): { imageOf: Int32Array; originRow: Int32Array; originCol: Int32Array } {
  const grid = locationGrid(g, H, W);
  let origins: (b: number, r: number) => [number, number];
  let reps: number;
  if (g.fixedLocations) {
    // A threat restricted to explicit origins: 'all' walks them, 'random' draws among them.
    const list = g.fixedLocations;
    if (placement === 'corners') {
      throw new PatchcertError('INVALID_OPTION', `Error in patchAttack: placement must be 'random' or 'all' for a threat with fixed locations, but got 'corners'.`);
    }
    reps = placement === 'all' ? perLocation * list.length : restarts;
    origins = placement === 'all' ? (_b, r) => [list[r % list.length]![0], list[r % list.length]![1]] : () => {
      const l = list[rng.int(list.length)]!;
      return [l[0], l[1]];
    };
  } else if (placement === 'corners') {
    const cs: [number, number][] = [];
    for (const c of [[0, 0], [0, grid.cols - 1], [grid.rows - 1, 0], [grid.rows - 1, grid.cols - 1]] as [number, number][]) {
      if (!cs.some((d) => d[0] === c[0] && d[1] === c[1])) cs.push(c);
    }
    reps = Math.max(restarts, cs.length);
    origins = (_b, r) => cs[r % cs.length]!;
  } else if (placement === 'random') {
    reps = restarts;
    // Q3: the reference draws from [0, H−p), which leaves out the last origin (when there is more than one).
    const nr = quirk && grid.rows > 1 ? grid.rows - 1 : grid.rows;
    const nc = quirk && grid.cols > 1 ? grid.cols - 1 : grid.cols;
    origins = () => [rng.int(nr), rng.int(nc)];
  } else {
    reps = perLocation * grid.count;
    origins = (_b, r) => {
      const i = r % grid.count;
      return [Math.floor(i / grid.cols), i % grid.cols];
    };
  }
  const n = reps * B;
  const imageOf = new Int32Array(n);
  const originRow = new Int32Array(n);
  const originCol = new Int32Array(n);
  for (let r = 0, k = 0; r < reps; r++) {
    for (let b = 0; b < B; b++, k++) {
      const [oy, ox] = origins(b, r);
      imageOf[k] = b;
      originRow[k] = oy;
      originCol[k] = ox;
    }
  }
  return { imageOf, originRow, originCol };
}

/**
 * The paper's "IFGSM" patch attack (reference §11.1): untargeted sign-gradient ascent on the
 * cross-entropy inside the patch, from a uniform ±1 random start, pixels clamped to [0,1],
 * `restarts` random locations × `steps` steps of `stepSize`, restarts stacked into the batch.
 * An image counts as broken when the clean image or any scored iterate is misclassified
 * (`success`); `successByBestLoss` gives the reference's rule (the highest-loss iterate).
 * Shaped patches are attacked the same way through a mask threat.
 *
 * @param model - a classifier on pixel-space input (e.g. `SequentialModel`).
 * @param images - `[batch, height, width, channels]` pixels in [0,1].
 * @param labels - true classes `[batch]` (tensor or array).
 * @param options - see {@link PatchAttackOptions}; `threat` is required.
 * @returns per-image verdicts, the kept iterates and their patch origins.
 * @throws PatchcertError `SHAPE_MISMATCH` for bad images/labels, `INVALID_OPTION` for bad options
 *   or a patch larger than the image.
 * @example
 * const r = patchAttack(model, x, y, { threat: '2x2', restarts: 20, steps: 50, seed: 1 });
 * console.log(r.cleanAccuracy, r.adversarialAccuracy);
 * r.adversarial.dispose();
 */
export function patchAttack(model: Classifier, images: tf.Tensor4D, labels: tf.Tensor1D | ArrayLike<number>, options: PatchAttackOptions): PatchAttackResult {
  const fn = 'patchAttack';
  if (options === null || typeof options !== 'object') {
    throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: options must be an object with a threat, but got ${describe(options)}.`);
  }
  checkKeys(options, KNOWN, fn);
  checkImages(images, fn);
  if (options.threat === undefined) throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: options.threat must be a patch such as '2x2', but got undefined.`);
  const o = { ...DEFAULT_PATCH_ATTACK, ...stripUndefined(options) };
  if (!PLACEMENTS.includes(o.placement)) {
    throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: placement must be one of ${PLACEMENTS.join(', ')}, but got ${describe(o.placement)}.`);
  }
  checkInt(o.restarts, 'restarts', 1, fn);
  checkInt(o.restartsPerLocation, 'restartsPerLocation', 1, fn);
  checkInt(o.steps, 'steps', 0, fn);
  checkInt(o.batchSize, 'batchSize', 1, fn);
  checkNumber(o.stepSize, 'stepSize', 0, 1, fn);
  checkNumber(o.randomStart, 'randomStart', 0, 1, fn);
  checkNumber(o.seed, 'seed', -Infinity, Infinity, fn);
  const g = patchGeometry(o.threat, fn);
  const [B, H, W] = images.shape;
  if (g.height > H || g.width > W) {
    throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: threat must fit in the ${H}x${W} image, but got a ${g.height}x${g.width} patch.`);
  }
  for (const [r, c] of g.fixedLocations ?? []) {
    if (r + g.height > H || c + g.width > W) {
      throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: threat locations must keep the patch inside the ${H}x${W} image, but got [${r}, ${c}].`);
    }
  }
  const rng = new Rng(o.seed);
  const { pred: cleanPred, numClasses } = predictClasses(model, o.defense, images, o.batchSize);
  const y = readLabels(labels, B, numClasses, fn);
  const targets = resolveTargets(o.targeted, y, numClasses, rng, fn);
  const plan = planLocations(g, B, H, W, o.placement, o.restarts, o.restartsPerLocation, o.referenceQuirk, rng);
  const fillMask = (r: number, out: Float32Array, offset: number): void => {
    const oy = plan.originRow[r]!;
    const ox = plan.originCol[r]!;
    for (let i = 0; i < g.height; i++) {
      for (let j = 0; j < g.width; j++) {
        if (g.mask[i * g.width + j]) out[offset + (oy + i) * W + ox + j] = 1;
      }
    }
  };
  const res = runAttack({
    model,
    defense: o.defense,
    images,
    labels: y,
    targets,
    numClasses,
    cleanPred,
    rows: plan.imageOf.length,
    imageOf: plan.imageOf,
    fillMask,
    steps: o.steps,
    stepSize: o.stepSize,
    randomStart: o.randomStart,
    rng,
    batchSize: o.batchSize,
    stopOnSuccess: o.stopOnSuccess,
  });
  const location = new Int32Array(2 * B).fill(-1);
  res.bestRow.forEach((r, b) => {
    if (r >= 0) {
      location[2 * b] = plan.originRow[r]!;
      location[2 * b + 1] = plan.originCol[r]!;
    }
  });
  const { bestRow: _unused, ...rest } = res;
  return { ...rest, location };
}
