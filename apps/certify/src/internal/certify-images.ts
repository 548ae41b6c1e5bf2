import { tf, PatchcertError } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { certify, squarePatch, rectanglePatch, namedShape, sparsePixels, type PatchThreat, type SparseThreat } from '@patchcert/bounds';
import type { ImageResult } from '../results.js';
import type { ThreatSpec } from './threat-spec.js';

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
}

/** What certifying a batch yields. */
export interface BatchOutcome {
  results: ImageResult[];
  /** Per image of the batch, the worst margin per location of the heatmap threat (or empty). */
  maps: Float32Array[];
  /** Heatmap grid: rows × cols of patch origins. */
  grid: [number, number];
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

/**
 * Certifies one batch of images against every threat: the clean prediction, then per threat the
 * verdict, the worst margin and where it occurs; for the heatmap threat also the worst margin at
 * every location.
 */
export async function certifyBatch(
  model: SequentialModel,
  batch: ImageBatch,
  threats: readonly PreparedThreat[],
  heatmapThreat: string | null,
): Promise<BatchOutcome> {
  const [h, w, c] = model.metadata.inputShape;
  const n = batch.indices.length;
  const classes = model.metadata.classNames.length;
  const x = tf.tidy(() => tf.tensor4d(batch.pixels, [n, h, w, c], 'int32').toFloat().div(255) as tf.Tensor4D);
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
      const wantMap = spec.id === heatmapThreat;
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
      }
    }
    return { results, maps, grid };
  } finally {
    x.dispose();
    y.dispose();
  }
}
