/**
 * @packageDocumentation
 * `@patchcert/backend/testing`: helpers the packages' unit tests share (seeded random images and
 * labels, relative closeness, "throws PatchcertError with code"). Built on `node:assert`, so the
 * subpath needs no test framework; any test runner reports its failures.
 */
import { strict as assert } from 'node:assert';
import { tf } from './tf.js';
import { PatchcertError } from './errors.js';
import type { Rng } from './rng.js';

/**
 * Uniform random pixel images in [0,1], with about a tenth of the pixels exactly 0 and a tenth
 * exactly 1 (the edges of the pixel box).
 *
 * @param rng - the seeded generator (advanced).
 * @param n - images.
 * @param shape - `[height, width, channels]`.
 * @returns `[n, height, width, channels]`.
 */
export function randomImages(rng: Rng, n: number, shape: [number, number, number]): tf.Tensor4D {
  const size = n * shape[0] * shape[1] * shape[2];
  const d = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = rng.next();
    d[i] = u < 0.1 ? 0 : u > 0.9 ? 1 : rng.next();
  }
  return tf.tensor4d(d, [n, ...shape]);
}

/**
 * Uniform random labels.
 *
 * @param rng - the seeded generator (advanced).
 * @param n - labels.
 * @param classes - labels are in [0, classes). @defaultValue 10
 * @returns `[n]`.
 */
export function randomLabels(rng: Rng, n: number, classes = 10): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(classes));
}

/**
 * Asserts |a − b| ≤ rtol·max(1, |b|) elementwise (relative for large values, absolute below 1).
 *
 * @param what - names the comparison in the failure message.
 * @returns the worst ratio |a − b| / max(1, |b|), for reporting.
 * @throws AssertionError on a length mismatch or the first element out of tolerance (NaN included).
 */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what: string): number {
  assert.equal(a.length, b.length, `${what}: lengths`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const r = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (!(r <= rtol)) assert.fail(`${what}: index ${i}: ${a[i]} vs ${b[i]} (rel ${r.toExponential(2)} > ${rtol})`);
    worst = Math.max(worst, r);
  }
  return worst;
}

/**
 * Runs `fn` and asserts it throws a {@link PatchcertError} with `code` whose message matches
 * `message`.
 *
 * @param message - the message pattern. @defaultValue `/^Error in \w+/` (the house style's start)
 * @throws AssertionError when `fn` returns, throws another class, another code or another message.
 */
export function throwsCode(fn: () => unknown, code: string, message: RegExp = /^Error in \w+/): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof PatchcertError, `expected a PatchcertError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return;
  }
  assert.fail(`expected a PatchcertError ${code}`);
}
