import { tf, PatchcertError } from '@patchcert/backend';
import { loadModel, type SequentialModel } from '@patchcert/models';
import { certify, squarePatch, rectanglePatch, namedShape, sparsePixels, type PatchThreat, type SparseThreat } from '@patchcert/bounds';
import { certifyDerandomizedColumns, certifyRandomAblation } from '@patchcert/ablation';
import type { ImageResult, SmoothedVerdict } from '../results.js';
import type { ThreatSpec } from './threat-spec.js';
import { imageSeed, methodCovers, type CertifyMethod, type MethodPlan } from './method-spec.js';

type BoundsThreat = PatchThreat | SparseThreat;

/** A threat spec with its bounds object built once. */
export interface PreparedThreat {
  spec: ThreatSpec;
  threat: BoundsThreat;
}

/**
 * Builds the `@patchcert/bounds` threat for every spec.
 * @throws PatchcertError from bounds when a stencil cannot be built (an unknown shape at that
 *   pixel count), with the threat id in the message.
 */
export function prepareThreats(specs: readonly ThreatSpec[]): PreparedThreat[] {
  return specs.map((spec) => {
    try {
      switch (spec.kind) {
        case 'patch':
          return { spec, threat: spec.height === spec.width ? squarePatch(spec.height) : rectanglePatch(spec.height, spec.width) };
        case 'shape': {
          const rect = /^rectangle-(\d+)x(\d+)$/.exec(spec.variant);
          const threat = rect ? rectanglePatch(Number(rect[1]), Number(rect[2])) : namedShape(spec.variant as Parameters<typeof namedShape>[0], spec.pixels);
          return { spec, threat };
        }
        case 'sparse':
          return { spec, threat: sparsePixels(spec.k) };
      }
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new PatchcertError('INVALID_OPTION', `Error in certify: threat ${spec.id} must be one bounds can build, but it failed: ${msg}`, { cause: err });
    }
  });
}

/** A batch of images to certify, as plain data (it crosses to worker threads). */
export interface ImageBatch {
  /** Dataset indices of the images. */
  indices: number[];
  /** uint8 pixels, `indices.length · H · W · C`. */
  pixels: Uint8Array;
  labels: number[];
  /**
   * Which images need a margin map (only those can still become report samples): an image whose
   * heatmap-threat verdict is certified (uncertified) needs one iff its index is below
   * `certified` (`uncertified`). Without it every image gets one. Maps turn off certify's
   * location pruning, so the run asks for as few as it can.
   */
  mapBelow?: { certified: number; uncertified: number };
}

/** What certifying a batch yields. */
export interface BatchOutcome {
  results: ImageResult[];
  /** Per image of the batch, the worst margin per location of the heatmap threat (empty where none was asked for). */
  maps: Float32Array[];
  /** Heatmap grid: rows × cols of patch origins. */
  grid: [number, number];
  /** Seconds each method spent on the batch. */
  seconds: Partial<Record<CertifyMethod, number>>;
}


/**
 * Reduces a per-image margin map to the worst margin per location: a map of `L` values is taken
 * as is; a map of `L · classes` values (location-major) becomes the min over classes j ≠ label.
 */
export function worstPerLocation(map: Float32Array, locations: number, classes: number, label: number): Float32Array {
  if (map.length === locations) return map;
  if (map.length !== locations * classes) {
    throw new PatchcertError('SHAPE_MISMATCH', `Error in certifyBatch: a margin map must have ${locations} or ${locations * classes} values, but got ${map.length}.`);
  }
  const out = new Float32Array(locations);
  for (let l = 0; l < locations; l++) {
    let m = Infinity;
    for (let j = 0; j < classes; j++) if (j !== label) m = Math.min(m, map[l * classes + j]!);
    out[l] = m;
  }
  return out;
}

function pixelTensor(batch: ImageBatch, [h, w, c]: readonly number[]): tf.Tensor4D {
  const n = batch.indices.length;
  return tf.tidy(() => tf.tensor4d(batch.pixels, [n, h!, w!, c!], 'int32').toFloat().div(255) as tf.Tensor4D);
}

/**
 * Certifies one batch with IBP: the clean prediction, then per threat the verdict, the worst
 * margin and where it occurs; for the heatmap threat also the worst margin at every location.
 */
async function certifyIbp(
  model: SequentialModel,
  x: tf.Tensor4D,
  batch: ImageBatch,
  threats: readonly PreparedThreat[],
  heatmapThreat: string | null,
): Promise<BatchOutcome> {
  const [h, w] = model.metadata.inputShape;
  const n = batch.indices.length;
  const classes = model.metadata.classNames.length;
  const y = tf.tensor1d(batch.labels, 'int32');
  try {
    const predictions = Array.from(await tf.tidy(() => model.predict(x).argMax(1)).data().then((d) => Int32Array.from(d)));
    const results: ImageResult[] = batch.indices.map((index, i) => ({
      index,
      label: batch.labels[i]!,
      prediction: predictions[i]!,
      correct: predictions[i] === batch.labels[i],
      threats: {},
    }));
    let maps: Float32Array[] = [];
    let grid: [number, number] = [0, 0];
    for (const { spec, threat } of threats) {
      const wantMap = spec.id === heatmapThreat && batch.mapBelow === undefined;
      const r = await certify(model, x, y, threat, { marginMap: wantMap });
      const origin = threat.kind === 'patch' ? threat : null;
      const g: [number, number] = origin ? origin.grid(h, w) : [0, 0];
      for (let i = 0; i < n; i++) {
        const loc = r.worstLocation[i]!;
        results[i]!.threats[spec.id] = {
          certified: r.certified[i] === 1,
          worstMargin: r.worstMargin[i]!,
          worstLocation: origin && loc >= 0 ? origin.locationOrigin(loc, h, w) : null,
          worstClass: r.worstClass[i]!,
        };
      }
      if (wantMap && r.marginMap) {
        grid = g;
        maps = r.marginMap.map((m, i) => worstPerLocation(m, g[0] * g[1], classes, batch.labels[i]!));
      } else if (spec.id === heatmapThreat && batch.mapBelow) {
        // Maps only for the images that can still become samples, in a second (unpruned) pass.
        const limit = batch.mapBelow;
        const need = batch.indices.flatMap((index, i) => (index < (r.certified[i] ? limit.certified : limit.uncertified) ? [i] : []));
        grid = g;
        maps = batch.indices.map(() => new Float32Array(0));
        if (need.length > 0) {
          const xs = tf.tidy(() => tf.gather(x, need));
          const ys = tf.tensor1d(need.map((i) => batch.labels[i]!), 'int32');
          try {
            const m = await certify(model, xs, ys, threat, { marginMap: true });
            need.forEach((i, k) => (maps[i] = worstPerLocation(m.marginMap![k]!, g[0] * g[1], classes, batch.labels[i]!)));
          } finally {
            tf.dispose([xs, ys]);
          }
        }
      }
    }
    return { results, maps, grid, seconds: {} };
  } finally {
    y.dispose();
  }
}

/** What a worker (or the main thread) needs to certify: the threats and every method with its model. */
export interface CertifierInit {
  threats: ThreatSpec[];
  heatmapThreat: string | null;
  methods: MethodPlan[];
}

/**
 * The side of the square whose derandomized certificate covers a threat: a column band meets
 * the columns of the threat's bounding box only, so its width is exact; a block meets rows and
 * columns, so the enclosing square of the bounding box (sound, loose for thin rectangles).
 */
export function derandomizedSide(threat: BoundsThreat, kind: 'column' | 'block'): number {
  if (threat.kind !== 'patch') throw new PatchcertError('INTERNAL', 'Error in derandomizedSide: threat must be a patch or shape, but got a sparse threat.');
  return kind === 'column' ? threat.width : Math.max(threat.height, threat.width);
}

/** Certifies image batches with every requested method; owns its models. */
export class Certifier {
  private constructor(
    private readonly init: CertifierInit,
    private readonly imageShape: [number, number, number],
    private readonly ibp: { model: SequentialModel; threats: PreparedThreat[] } | undefined,
    private readonly ablation: Array<{ plan: Exclude<MethodPlan, { method: 'ibp' }>; model: SequentialModel; threats: PreparedThreat[] }>,
  ) {}

  /**
   * Loads every method's model (the backend must be initialised).
   * @throws PatchcertError from loadModel or bounds when a model or threat cannot be built.
   */
  static async create(init: CertifierInit): Promise<Certifier> {
    const prepared = prepareThreats(init.threats);
    let ibp: { model: SequentialModel; threats: PreparedThreat[] } | undefined;
    const ablation: Array<{ plan: Exclude<MethodPlan, { method: 'ibp' }>; model: SequentialModel; threats: PreparedThreat[] }> = [];
    let imageShape: [number, number, number] | undefined;
    for (const plan of init.methods) {
      const model = await loadModel(plan.modelDir);
      const threats = prepared.filter((p) => methodCovers(plan.method, p.spec));
      if (plan.method === 'ibp') {
        ibp = { model, threats };
        imageShape = model.metadata.inputShape;
      } else {
        ablation.push({ plan, model, threats });
        const [h, w, c2] = model.metadata.inputShape;
        imageShape ??= [h, w, c2 / 2];
      }
    }
    if (!imageShape) throw new PatchcertError('INTERNAL', 'Error in Certifier.create: methods must not be empty, but got none.');
    return new Certifier(init, imageShape, ibp, ablation);
  }

  /** Certifies one batch with every method; `seconds` says how long each method took. */
  async certify(batch: ImageBatch): Promise<BatchOutcome> {
    const x = pixelTensor(batch, this.imageShape);
    try {
      let outcome: BatchOutcome;
      if (this.ibp) {
        const t0 = performance.now();
        outcome = await certifyIbp(this.ibp.model, x, batch, this.ibp.threats, this.init.heatmapThreat);
        outcome.seconds.ibp = (performance.now() - t0) / 1000;
      } else {
        outcome = {
          results: batch.indices.map((index, i) => ({ index, label: batch.labels[i]!, prediction: -1, correct: false, threats: {} })),
          maps: [],
          grid: [0, 0],
          seconds: {},
        };
      }
      for (const a of this.ablation) {
        const t0 = performance.now();
        const verdicts = a.plan.method === 'derandomized' ? this.derandomized(a.model, a.plan, a.threats, x, batch) : this.randomAblation(a.model, a.plan, a.threats, x, batch);
        verdicts.forEach((v, i) => {
          const r = outcome.results[i]!;
          (r.ablation ??= {})[a.plan.method] = v;
        });
        outcome.seconds[a.plan.method] = (performance.now() - t0) / 1000;
      }
      return outcome;
    } finally {
      x.dispose();
    }
  }

  private derandomized(
    model: SequentialModel,
    plan: Extract<MethodPlan, { method: 'derandomized' }>,
    threats: readonly PreparedThreat[],
    x: tf.Tensor4D,
    batch: ImageBatch,
  ): SmoothedVerdict[] {
    const kind = plan.mode.mode;
    const sides = threats.map((t) => derandomizedSide(t.threat, kind));
    const patchSizes = [...new Set(sides)];
    const r = certifyDerandomizedColumns(model, x, batch.labels, { bandWidth: plan.mode.bandWidth, kind, patchSizes });
    return batch.indices.map((_, i) => {
      const certified: Record<string, boolean> = {};
      threats.forEach((t, j) => (certified[t.spec.id] = r.certified[patchSizes.indexOf(sides[j]!)]![i] === 1));
      return {
        prediction: r.predicted[i]!,
        correct: r.correct[i] === 1,
        certified,
        votes: Array.from(r.votes.subarray(i * r.numClasses, (i + 1) * r.numClasses)),
      };
    });
  }

  private randomAblation(
    model: SequentialModel,
    plan: Extract<MethodPlan, { method: 'random-ablation' }>,
    threats: readonly PreparedThreat[],
    x: tf.Tensor4D,
    batch: ImageBatch,
  ): SmoothedVerdict[] {
    const [h, w, c] = this.imageShape;
    const ks = threats.map((t) => (t.spec.kind === 'sparse' ? t.spec.k : 0));
    const { n0, n, alpha, seed } = plan.sampling;
    // One call per image, each seeded by the image's test-split index: verdicts do not depend on
    // how images are batched or shared out to workers, and a resumed run draws the same samples.
    return batch.indices.map((index, i) => {
      const xi = tf.slice(x, [i, 0, 0, 0], [1, h, w, c]);
      try {
        const r = certifyRandomAblation(model, xi, [batch.labels[i]!], { kKeep: plan.mode.kKeep, k: ks, n0, n, alpha, seed: imageSeed(seed, index) });
        const certified: Record<string, boolean> = {};
        threats.forEach((t, j) => (certified[t.spec.id] = r.certified[j]![0] === 1));
        return { prediction: r.predicted[0]!, correct: r.correct[0] === 1, certified, pALower: r.pALower[0]!, maxCertifiedK: r.maxCertifiedK[0]! };
      } finally {
        xi.dispose();
      }
    });
  }

  dispose(): void {
    this.ibp?.model.dispose();
    for (const a of this.ablation) a.model.dispose();
  }
}
