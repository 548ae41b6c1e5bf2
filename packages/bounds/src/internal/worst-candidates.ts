import { tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { PatchThreat } from '../patch-threat.js';
import { labelSortedPasses } from './label-sorted-passes.js';

/**
 * How close (relative to the image's largest |margin|) a location's margin must come to the
 * per-class minimum to stay a candidate. It covers the float-rounding gap between the host-side
 * fast plan that ranks locations and the differentiable path that recomputes the candidates
 * (fast == naive to ~1e-6 in the bounds tests), so the true minimiser is always among them.
 */
const CANDIDATE_RTOL = 1e-4;

/**
 * Runs `f` with tfjs's gradient tape paused. A customGrad's forward function runs at kernel
 * depth 1, where tfjs records nothing, so the ranking pass below neither slows the tape nor keeps
 * its intermediates alive until the backward pass ends.
 */
function untaped<T>(f: () => T): T {
  let out: { value: T } | undefined;
  const run = tf.customGrad(((x: tf.Tensor) => {
    out = { value: f() };
    return { value: tf.zerosLike(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const dummy = tf.scalar(0);
  tf.dispose([run(dummy) as tf.Tensor, dummy]);
  return out!.value;
}

/**
 * The locations that can be the worst one of each image: for every class j ≠ y, every location
 * whose margin lower bound is within {@link CANDIDATE_RTOL} of the minimum over all locations
 * (ties included), ranked with the fast plan on the host (no gradient, the certify path).
 * Training's loss needs the gradient of the per-class minimum only, and tf.min sends it to the
 * minimisers alone, so bounding just these rows on the tape gives the same value and gradients
 * as bounding every location, at a fraction of the backward cost.
 *
 * @returns `[batch · k]` per-image locations (k the largest candidate count; shorter lists are
 *   padded with a location that is no candidate, which cannot change the minimum or its
 *   gradient), or undefined when candidates exceed `maxPerImage` (then bound every location).
 */
export function worstCandidates(model: SequentialModel, images: tf.Tensor4D, labels: Int32Array, threat: PatchThreat, eps: number, chunk: number | undefined, maxPerImage: number): Int32Array | undefined {
  const [batch, h, w] = images.shape;
  const total = threat.locations(h, w);
  const classes = model.numClasses;
  // Every location's margins through certify's own loop: images in label order and in groups
  // small enough that a pass takes every location at once (no per-pass slices of the first-layer
  // terms, one elided matmul per label run); a training batch is in random label order, and
  // ranking it as one 256-image group cost 3 slices and ~230 one-image matmuls per pass. The
  // passes write straight into one array (certify's verdict loop and per-image maps cost ~30 ms
  // of a 256-image MLP step).
  const margins = new Float32Array(batch * total * classes);
  untaped(() =>
    labelSortedPasses(model, images, labels, threat, { eps, method: 'fast', chunk, imageBatch: 32 }, {
      pass(idx, _y, l0, k, data) {
        for (let b = 0; b < idx.length; b++) margins.set(data.subarray(b * k * classes, (b + 1) * k * classes), (idx[b]! * total + l0) * classes);
      },
    }),
  );
  const lists: { rows: number[]; pad: number }[] = [];
  const isCandidate = new Uint8Array(total);
  const min = new Float64Array(classes);
  for (let b = 0; b < batch; b++) {
    const y = labels[b]!;
    const base = b * total * classes;
    min.fill(Infinity);
    let scale = 0;
    for (let l = 0; l < total; l++) {
      for (let j = 0; j < classes; j++) {
        const v = margins[base + l * classes + j]!;
        if (v < min[j]!) min[j] = v;
        const a = v < 0 ? -v : v;
        // `!(a <= scale)` also catches NaN: a NaN bound cannot be ranked, so bound every location.
        if (!(a <= scale)) {
          if (Number.isNaN(v)) return undefined;
          scale = a;
        }
      }
    }
    const tol = CANDIDATE_RTOL * scale + 1e-30;
    isCandidate.fill(0);
    const list: number[] = [];
    for (let l = 0; l < total; l++) {
      for (let j = 0; j < classes; j++) {
        // The y slot is exactly 0 everywhere, and its gradient is exactly 0: it never decides.
        if (j === y || !(margins[base + l * classes + j]! <= min[j]! + tol)) continue;
        isCandidate[l] = 1;
        list.push(l);
        break;
      }
    }
    // Too many near-ties (e.g. eps = 0, where every location has the clean margins): keep each
    // class's first exact minimiser. worstMargins' minimum sends the gradient to the first
    // minimiser only (PyTorch's min), so the value and gradient stay those of every location.
    const rows = list.length > maxPerImage ? firstMinimisers(margins, base, total, classes, y, min) : list;
    // Padding: a location that is no candidate (strictly above every class minimum), else a
    // repeat of a candidate, which the first-minimiser gradient counts once.
    let pad = -1;
    if (rows === list) for (let l = 0; l < total && pad < 0; l++) if (!isCandidate[l]) pad = l;
    lists.push({ rows, pad: pad < 0 ? rows[0]! : pad });
  }
  const k = Math.max(...lists.map((l) => l.rows.length));
  if (k > maxPerImage) return undefined;
  const out = new Int32Array(batch * k);
  lists.forEach(({ rows, pad }, b) => {
    for (let j = 0; j < k; j++) out[b * k + j] = j < rows.length ? rows[j]! : pad;
  });
  return out;
}

/** The first location attaining each class's minimum (y excluded), without repeats. */
function firstMinimisers(margins: Float32Array, base: number, total: number, classes: number, y: number, min: Float64Array): number[] {
  const rows: number[] = [];
  for (let j = 0; j < classes; j++) {
    if (j === y) continue;
    for (let l = 0; l < total; l++) {
      if (margins[base + l * classes + j]! <= min[j]!) {
        if (!rows.includes(l)) rows.push(l);
        break;
      }
    }
  }
  return rows.length > 0 ? rows : [0];
}
