import * as assert from 'uvu/assert';
import { PatchcertError, Rng, tf } from '@patchcert/backend';
import { SequentialModel, buildModel } from '@patchcert/models';

/** Asserts that `fn` throws a PatchcertError with `code` and a house-style message. */
export function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, code);
    assert.match((e as Error).message, /^Error in \w+: .+ must be .+, but got .+\.$/s);
    return;
  }
  assert.unreachable(`expected a PatchcertError ${code}`);
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
