// windowReluMargins (the fused PcWindowReluMargins kernel on wasm and cpu, windowSums +
// reluElidedMargins elsewhere) against the rule written out in float64: each row's window sums,
// the ReLU box of (base + delta, rad), then c = μ'·W + b and the margin c_y − c_j − r'·|W_y − W_j|.
// Cases cover shared and per-image coefficients, radii and windows (the radius rows summed once
// when neither depends on the image), odd row counts (a row pair's second row missing), windows
// at the first and last feature, 0, 4, 9 and 12 taps, one and two class blocks, units not a
// multiple of 4, and many units inactive over their box.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, windowReluMargins, registerCpuKernels, tf, PcWindowReluMargins } from '@patchcert/backend';
import { assertClose, assertThrowsMatching, runOn, seededNormal, reluBox64, elidedMargins64, ruleCases } from './helpers.js';

interface Case {
  batch: number;
  features: number;
  units: number;
  classes: number;
  taps: number[];
  /** Window origins: one list for every image, or one per image. */
  origins: number[] | number[][];
  coefShared: boolean;
  radShared: boolean;
}

const originsOf = (c: Case, b: number): number[] => (Array.isArray(c.origins[0]) ? (c.origins as number[][])[b]! : (c.origins as number[]));

function data(c: Case, seed: number) {
  const coef = seededNormal((c.coefShared ? 1 : c.batch) * c.features, seed);
  const radCoef = seededNormal((c.radShared ? 1 : c.batch) * c.features, seed + 1, 0.5).map(Math.abs);
  const weights = seededNormal(c.features * c.units, seed + 2, 0.6);
  const base = seededNormal(c.batch * c.units, seed + 3, 0.8);
  const kernel = seededNormal(c.units * c.classes, seed + 4, 0.3);
  const bias = seededNormal(c.classes, seed + 5);
  const labels = Int32Array.from({ length: c.batch }, (_, b) => (b * 7 + seed) % c.classes);
  return { coef, radCoef, weights, base, kernel, bias, labels };
}

/** The rule in float64, independent of every kernel (test/helpers.ts). */
function reference(c: Case, d: ReturnType<typeof data>): Float64Array {
  const count = originsOf(c, 0).length;
  const out = new Float64Array(c.batch * count * c.classes);
  for (let b = 0; b < c.batch; b++) {
    const cRow = c.coefShared ? 0 : b * c.features;
    const rRow = c.radShared ? 0 : b * c.features;
    for (const [q, o] of originsOf(c, b).entries()) {
      const m = Float64Array.from(d.base.subarray(b * c.units, (b + 1) * c.units));
      const r = new Float64Array(c.units);
      for (const t of c.taps) {
        for (let i = 0; i < c.units; i++) {
          m[i]! += d.coef[cRow + o + t]! * d.weights[(o + t) * c.units + i]!;
          r[i]! += d.radCoef[rRow + o + t]! * Math.abs(d.weights[(o + t) * c.units + i]!);
        }
      }
      const [mid, rad] = reluBox64(m, r);
      out.set(elidedMargins64(mid, rad, d.kernel, d.bias, d.labels[b]!), (b * count + q) * c.classes);
    }
  }
  return out;
}

function run(c: Case, d: ReturnType<typeof data>): tf.Tensor {
  const weights = tf.tensor2d(d.weights, [c.features, c.units]);
  return windowReluMargins(
    tf.tensor2d(d.coef, [c.coefShared ? 1 : c.batch, c.features]),
    weights,
    tf.tensor2d(d.radCoef, [c.radShared ? 1 : c.batch, c.features]),
    tf.abs(weights),
    Array.isArray(c.origins[0]) ? tf.tensor2d(c.origins as number[][], undefined, 'int32') : tf.tensor2d([c.origins as number[]], undefined, 'int32'),
    c.taps,
    tf.tensor2d(d.base, [c.batch, c.units]),
    tf.tensor2d(d.kernel, [c.units, c.classes]),
    tf.tensor1d(d.bias),
    tf.tensor1d(d.labels, 'int32'),
  );
}

// A 6×6 one-channel image: 2×2 taps [0, 1, 6, 7], 3×3 taps; a 4×4 three-channel one: 2×2 taps.
const T22 = [0, 1, 6, 7];
const T33 = [0, 1, 2, 6, 7, 8, 12, 13, 14];
const T22C3 = [0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17];
const CASES: Case[] = [
  { batch: 3, features: 36, units: 37, classes: 10, taps: T22, origins: [0, 1, 7, 14, 20, 28], coefShared: false, radShared: true },
  { batch: 4, features: 36, units: 21, classes: 10, taps: T22, origins: [0, 5, 28, 22, 10], coefShared: false, radShared: false },
  { batch: 2, features: 36, units: 19, classes: 13, taps: T33, origins: [[0, 21, 3], [14, 0, 21]], coefShared: false, radShared: true },
  { batch: 3, features: 48, units: 12, classes: 10, taps: T22C3, origins: [[0], [30], [15]], coefShared: true, radShared: false },
  { batch: 2, features: 36, units: 8, classes: 3, taps: [], origins: [0, 4, 9], coefShared: false, radShared: false },
  { batch: 1, features: 36, units: 33, classes: 26, taps: T22, origins: [28, 0, 3], coefShared: false, radShared: true },
];

const TOL = { rtol: 1e-5, atol: 1e-5 };
const fused = suite('windowReluMargins');

ruleCases(fused, PcWindowReluMargins, CASES, {
  label: (c) => `${c.batch}×${c.features}→${c.units}, ${c.classes} classes, ${c.taps.length} taps, origins ${JSON.stringify(c.origins)}${c.coefShared ? ', shared coef' : ''}${c.radShared ? ', shared radii' : ''}`,
  data: (c, k) => data(c, 20 + k),
  run,
  reference,
  tol: TOL,
});

fused('[wasm] should count a unit active in only one row of a pair, in either row', async () => {
  // Every unit is inactive (base −5, small sums) except unit 4 of row 1 (pair's B) and unit 6 of
  // row 2 (next pair's A): only those rows' margins move off e_y.
  const c: Case = { batch: 1, features: 36, units: 9, classes: 10, taps: T22, origins: [0, 7, 14, 21], coefShared: false, radShared: false };
  const d = data(c, 3);
  d.base.fill(-5);
  d.coef.fill(0);
  d.radCoef.fill(0.1);
  d.weights.fill(0.5);
  for (let f = 0; f < c.features; f++) {
    d.weights[f * c.units + 4] = f === 7 ? 30 : 0.5;
    d.weights[f * c.units + 6] = f === 14 ? 30 : 0.5;
  }
  d.coef[7] = 0.2; // row 1 tap 0: unit 4's center −5 + 0.2·30 + … > 0
  d.coef[14] = 0.2; // row 2 tap 0: unit 6
  const [out] = await runOn('wasm', () => run(c, d));
  const ref = reference(c, d);
  assertClose(out!, ref, TOL, 'two active units');
  const row = (q: number) => Array.from(ref.subarray(q * c.classes, (q + 1) * c.classes));
  assert.not.equal(row(1), row(0), 'row 1 differs from the inactive row 0');
  assert.not.equal(row(2), row(0), 'row 2 differs from the inactive row 0');
});

fused('[wasm, cpu] should give NaN, never a skipped unit, for a NaN coefficient', async () => {
  const c: Case = { batch: 1, features: 36, units: 5, classes: 4, taps: T22, origins: [0, 14, 28], coefShared: false, radShared: false };
  const d = data(c, 5);
  d.coef[15] = NaN; // in the window at 14 only
  for (const backend of ['wasm', 'cpu'] as const) {
    const [out] = await runOn(backend, () => run(c, d));
    const y = d.labels[0]!;
    for (let j = 0; j < c.classes; j++) {
      if (j === y) continue;
      assert.ok(Number.isFinite(out![j]!) && Number.isFinite(out![2 * c.classes + j]!), `${backend}: windows 0 and 28, class ${j} finite`);
      assert.ok(Number.isNaN(out![c.classes + j]!), `${backend}: window 14 class ${j} is NaN`);
    }
  }
});

fused('[wasm, cpu] should name the input at fault', async () => {
  const c: Case = { batch: 2, features: 36, units: 4, classes: 5, taps: T22, origins: [0, 1, 2], coefShared: false, radShared: false };
  const d = data(c, 1);
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    if (backend === 'cpu') registerCpuKernels();
    const bad = assertThrowsMatching;
    bad(() => run({ ...c, origins: [0, 29] }, d), /PcWindowReluMargins: every window must lie inside the 36 features, but origin 29 at 1 with tap 7 does not/);
    bad(() => run({ ...c, origins: [[0], [1], [2]] }, d), /'origins' must be \[2, count\] or \[1, count\], but got \[3,1\]/);
    bad(() => run(c, { ...d, labels: Int32Array.from([0, 5]) }), /PcWindowReluMargins: labels must be in \[0, 4\], but got 5 at 1/);
    bad(() => run({ ...c, taps: [0, -1] }, d), /taps must be non-negative integers, but got -1/);
    const w = tf.zeros([36, 4]) as tf.Tensor2D;
    const o = tf.tensor2d([[0]], undefined, 'int32');
    const labels = tf.tensor1d([0, 1], 'int32');
    bad(() => windowReluMargins(tf.zeros([2, 36]), w, tf.zeros([3, 36]), w, o, T22, tf.zeros([2, 4]), tf.zeros([4, 5]), tf.zeros([5]), labels), /'radCoef' must be \[2,36\] or \[1,36\], but got \[3,36\]/);
    bad(() => windowReluMargins(tf.zeros([2, 36]), w, tf.zeros([2, 36]), tf.zeros([36, 5]), o, T22, tf.zeros([2, 4]), tf.zeros([4, 5]), tf.zeros([5]), labels), /'absWeights' must be \[36,4\] like 'weights', but got \[36,5\]/);
  }
});

fused.run();
