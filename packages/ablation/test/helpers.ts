import * as assert from 'uvu/assert';
import { Rng, tf } from '@patchcert/backend';
import { throwsCode as sharedThrowsCode } from '@patchcert/backend/testing';
import { SequentialModel, buildModel } from '@patchcert/models';

/** Asserts that `fn` throws a PatchcertError with `code` and a full house-style message. */
export function throwsCode(fn: () => unknown, code: string): void {
  sharedThrowsCode(fn, code, /^Error in \w+: .+ must be .+, but got .+\.$/s);
}

/** |a − b| ≤ tol. */
export function assertClose(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);
}

/**
 * A tiny random MLP for `[h, w, 2c]` ablation-encoded input with `classes` logits. Random
 * weights scaled up so different bands really vote for different classes.
 */
export function tinyModel(h: number, w: number, c: number, classes: number, seed: number): SequentialModel {
  return buildModel('mlp', { inputShape: [h, w, 2 * c], numClasses: classes, hidden: [16], seed });
}

/** Random pixel images `[n, h, w, c]` in [0,1]. */
export function randomImages(n: number, h: number, w: number, c: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => rng.next()), [n, h, w, c]);
}

/** Prediction of a vote vector (−1 = abstain): most votes, ties to the smaller class. */
export function votePrediction(votes: ArrayLike<number>, classes: number): number {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < votes.length; i++) if (votes[i]! >= 0) counts[votes[i]!]! += 1;
  let top = 0;
  for (let c = 1; c < classes; c++) if (counts[c]! > counts[top]!) top = c;
  return top;
}

/**
 * The bands a patch with top-left (r0, c0) and side m meets, read off the keep masks
 * (`[bands · h · w]`): a band is met when it keeps any pixel under the patch.
 */
export function bandsUnderPatch(masks: Float32Array, bands: number, h: number, w: number, r0: number, c0: number, m: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < bands; b++) {
    let meets = false;
    for (let r = r0; r < r0 + m && !meets; r++) for (let c = c0; c < c0 + m && !meets; c++) meets = masks[b * h * w + r * w + c] === 1;
    if (meets) out.push(b);
  }
  return out;
}

/**
 * Brute force: can any m×m patch change the vote prediction? For every patch position, the
 * adversary gives the bands the patch meets any votes. With `exhaustive` it tries every
 * assignment of {abstain, 0..classes−1} to those bands; otherwise, for each class c, it sets all
 * of them to c (the test shows the two agree).
 */
export function bruteForceBroken(
  votes: ArrayLike<number>,
  masks: Float32Array,
  bands: number,
  h: number,
  w: number,
  m: number,
  classes: number,
  exhaustive: boolean,
): boolean {
  const clean = votePrediction(votes, classes);
  const v = Array.from(votes);
  const seen = new Set<string>();
  for (let r0 = 0; r0 + m <= h; r0++) {
    for (let c0 = 0; c0 + m <= w; c0++) {
      const met = bandsUnderPatch(masks, bands, h, w, r0, c0, m);
      const key = met.join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      const a = v.slice();
      if (exhaustive) {
        const total = Math.pow(classes + 1, met.length);
        for (let code = 0; code < total; code++) {
          let x = code;
          for (const b of met) {
            a[b] = (x % (classes + 1)) - 1;
            x = Math.floor(x / (classes + 1));
          }
          if (votePrediction(a, classes) !== clean) return true;
        }
      } else {
        for (let c = 0; c < classes; c++) {
          for (const b of met) a[b] = c;
          if (votePrediction(a, classes) !== clean) return true;
        }
      }
    }
  }
  return false;
}
