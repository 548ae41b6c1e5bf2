// Shared helpers of the backend tests: seeded data, cross-backend runs and close comparisons.
import type * as uvu from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, registerWasmKernels, tf, Rng, PatchcertError, type BackendName } from '@patchcert/backend';

/** `n` seeded standard-normal float32 values times `scale`. */
export function seededNormal(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal() * scale;
  return out;
}

/** Tolerances of {@link assertClose}: |a − e| ≤ rtol·|e| + atol·max|e|. */
export interface Tolerance {
  rtol: number;
  atol: number;
}

/** Default tolerance for float32 kernels compared across backends. */
export const KERNEL_TOLERANCE: Tolerance = { rtol: 1e-5, atol: 1e-5 };

/**
 * Asserts `actual` matches `expected` elementwise with a relative tolerance plus an absolute one
 * scaled by the largest |expected| (sums of thousands of float32 products differ in their last
 * bits between backends, and near-zero entries of such sums can only be judged on that scale).
 */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  let worst = 0;
  let worstAt = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Math.abs(a - e) - (tol.rtol * Math.abs(e) + tol.atol * scale);
    if (!(excess <= worst) || Number.isNaN(a)) {
      worst = Number.isNaN(a) ? Infinity : excess;
      worstAt = i;
    }
  }
  assert.ok(worstAt < 0, `${label}: element ${worstAt} is ${actual[worstAt]}, expected ${expected[worstAt]} (scale ${scale})`);
}

/** Runs `fn` on backend `name` inside a tidy and returns its outputs as plain arrays. */
export async function runOn(name: BackendName, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend(name);
  const before = tf.memory().numTensors;
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const arrays = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  assert.is(tf.memory().numTensors, before, `tensors leaked on ${name}`);
  return arrays;
}

/** Runs `fn` on wasm and on cpu and asserts every output matches to `tol`. */
export async function assertWasmMatchesCpu(fn: () => tf.Tensor | tf.Tensor[], tol: Tolerance, label: string): Promise<void> {
  const wasm = await runOn('wasm', fn);
  const cpu = await runOn('cpu', fn);
  assert.is(wasm.length, cpu.length, `${label}: outputs`);
  wasm.forEach((w, i) => assertClose(w, cpu[i]!, tol, `${label} output ${i}`));
}

/** Runs `fn` on wasm with patchcert's kernel `kernelName` unregistered (its op's stock-op fallback), then registers every patchcert kernel again. */
export async function runOnStockOps(kernelName: string, fn: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await initBackend('wasm');
  tf.unregisterKernel(kernelName, 'wasm');
  try {
    return await runOn('wasm', fn);
  } finally {
    registerWasmKernels();
  }
}

/** Asserts `f` (run in a tidy) throws a PatchcertError whose message matches `pattern`. */
export function assertThrowsMatching(f: () => unknown, pattern: RegExp): void {
  assert.throws(() => tf.tidy(() => f() as tf.Tensor), (e: unknown) => e instanceof PatchcertError && pattern.test(e.message), String(pattern));
}

// The IBP rules in float64, written out independently of every kernel, for the fused kernels'
// reference values. A box is its center and radius per unit.

/** ReLU of the box (m, r): the center and radius of [max(m − r, 0), max(m + r, 0)], per unit. */
export function reluBox64(m: ArrayLike<number>, r: ArrayLike<number>): [Float64Array, Float64Array] {
  const mid = new Float64Array(m.length);
  const rad = new Float64Array(m.length);
  for (let i = 0; i < m.length; i++) {
    const lo = Math.max(m[i]! - r[i]!, 0);
    const hi = Math.max(m[i]! + r[i]!, 0);
    mid[i] = (hi + lo) / 2;
    rad[i] = (hi - lo) / 2;
  }
  return [mid, rad];
}

/** A dense layer on a box: center `bias + m·W`, radius `r·|W|` (W `[in, out]` row-major). */
export function denseBox64(m: ArrayLike<number>, r: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>): [Float64Array, Float64Array] {
  const out = bias.length;
  const mo = Float64Array.from(bias);
  const ro = new Float64Array(out);
  for (let i = 0; i < m.length; i++) {
    for (let j = 0; j < out; j++) {
      mo[j]! += m[i]! * w[i * out + j]!;
      ro[j]! += r[i]! * Math.abs(w[i * out + j]!);
    }
  }
  return [mo, ro];
}

/**
 * The last dense layer (W `[units, classes]`, bias) merged with C = e_y − e_j on a box (post-ReLU
 * center and radius): c_y − c_j − r·|W_y − W_j| with c = m·W + b, and exactly 0 at j = y.
 */
export function elidedMargins64(m: ArrayLike<number>, r: ArrayLike<number>, w: ArrayLike<number>, bias: ArrayLike<number>, y: number): Float64Array {
  const classes = bias.length;
  const logits = Float64Array.from(bias);
  const rows = new Float64Array(classes);
  for (let i = 0; i < m.length; i++) {
    for (let j = 0; j < classes; j++) {
      logits[j]! += m[i]! * w[i * classes + j]!;
      rows[j]! += r[i]! * Math.abs(w[i * classes + y]! - w[i * classes + j]!);
    }
  }
  return Float64Array.from({ length: classes }, (_, j) => (j === y ? 0 : logits[y]! - logits[j]! - rows[j]!));
}

/**
 * Registers on `t`, per case, the standard checks of a fused margin kernel: on wasm and on cpu
 * its output equals the float64 rule to `tol` with exact +0 in every y slot, and with the kernel
 * unregistered its op's stock-op fallback equals the rule too.
 */
export function ruleCases<C, D>(
  t: uvu.Test, kernelName: string, cases: readonly C[],
  o: { label(c: C): string; data(c: C, k: number): D; run(c: C, d: D): tf.Tensor; reference(c: C, d: D): Float64Array; tol: Tolerance },
): void {
  for (const [k, c] of cases.entries()) {
    const label = o.label(c);
    for (const backend of ['wasm', 'cpu'] as const) {
      t(`[${backend}] should equal the float64 rule (${label})`, async () => {
        const d = o.data(c, k);
        const [out] = await runOn(backend, () => o.run(c, d));
        const ref = o.reference(c, d);
        assertClose(out!, ref, o.tol, label);
        for (let i = 0; i < ref.length; i++) if (ref[i] === 0) assert.is(Object.is(out![i], 0), true, `y slot ${i} is +0`);
      });
    }
    t(`[stock ops] should equal the float64 rule where no kernel is registered (${label})`, async () => {
      const d = o.data(c, k);
      const [out] = await runOnStockOps(kernelName, () => o.run(c, d));
      assertClose(out!, o.reference(c, d), o.tol, label);
    });
  }
}
