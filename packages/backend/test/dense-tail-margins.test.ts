// denseTailMargins (the fused PcDenseTailMargins kernel on wasm and cpu, stock ops elsewhere)
// against the rule written out in float64: the hidden box base[baseRows[q]] + dMu[q]·W1 and
// dR[q]·|W1|, its ReLU box, the dense layer in center/radius form, ReLU box again, then
// c = μ'·W + b and the margin c_y − c_j − r'·|W_y − W_j|. Changes are sparse (most inputs of a
// row unchanged, as a conv window's cells outside the patch's reach), rows odd in number, labels
// mixed, widths not multiples of 4 or 8, the window wider and narrower than the hidden layer.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, denseTailMargins, registerCpuKernels, tf, PcDenseTailMargins, Rng } from '@patchcert/backend';
import { assertClose, assertThrowsMatching, runOn, seededNormal, reluBox64, denseBox64, elidedMargins64, ruleCases } from './helpers.js';

interface Case {
  rows: number;
  f: number;
  u1: number;
  u2: number;
  classes: number;
  images: number;
}

function data(c: Case, seed: number) {
  const rng = new Rng(seed);
  // Each row changes about 40% of its inputs; the rest are exactly 0 in both dMu and dR.
  const dMu = seededNormal(c.rows * c.f, seed, 0.6);
  const dR = seededNormal(c.rows * c.f, seed + 1, 0.3).map(Math.abs);
  for (let i = 0; i < dMu.length; i++) {
    if (rng.next() < 0.6) {
      dMu[i] = 0;
      dR[i] = 0;
    } else if (rng.next() < 0.2) {
      dR[i] = 0; // a center change with no radius
    }
  }
  const kernel1 = seededNormal(c.f * c.u1, seed + 2, 0.4);
  const base = seededNormal(c.images * c.u1, seed + 3, 0.5);
  const baseRows = Int32Array.from({ length: c.rows }, (_, q) => (q * 5 + seed) % c.images);
  const kernel2 = seededNormal(c.u1 * c.u2, seed + 4, 0.4);
  const bias2 = seededNormal(c.u2, seed + 5, 0.3);
  const kernel = seededNormal(c.u2 * c.classes, seed + 6, 0.3);
  const bias = seededNormal(c.classes, seed + 7);
  const labels = Int32Array.from({ length: c.rows }, (_, q) => (Math.floor(q / 2) * 3 + seed) % c.classes);
  return { dMu, dR, kernel1, base, baseRows, kernel2, bias2, kernel, bias, labels };
}

/** The rule in float64, independent of every kernel (test/helpers.ts). */
function reference(c: Case, d: ReturnType<typeof data>): Float64Array {
  const out = new Float64Array(c.rows * c.classes);
  for (let q = 0; q < c.rows; q++) {
    const base = d.base.subarray(d.baseRows[q]! * c.u1, (d.baseRows[q]! + 1) * c.u1);
    const [dm, dr] = denseBox64(d.dMu.subarray(q * c.f, (q + 1) * c.f), d.dR.subarray(q * c.f, (q + 1) * c.f), d.kernel1, new Float64Array(c.u1));
    const [m1, r1] = reluBox64(dm.map((v, i) => v + base[i]!), dr);
    const [m2, r2] = reluBox64(...denseBox64(m1, r1, d.kernel2, d.bias2));
    out.set(elidedMargins64(m2, r2, d.kernel, d.bias, d.labels[q]!), q * c.classes);
  }
  return out;
}

function run(c: Case, d: ReturnType<typeof data>): tf.Tensor {
  const kernel1 = tf.tensor2d(d.kernel1, [c.f, c.u1]);
  const kernel2 = tf.tensor2d(d.kernel2, [c.u1, c.u2]);
  return denseTailMargins(
    tf.tensor2d(d.dMu, [c.rows, c.f]), tf.tensor2d(d.dR, [c.rows, c.f]), kernel1, tf.abs(kernel1), tf.tensor2d(d.base, [c.images, c.u1]), tf.tensor1d(d.baseRows, 'int32'),
    kernel2, tf.abs(kernel2), tf.tensor1d(d.bias2), tf.tensor2d(d.kernel, [c.u2, c.classes]), tf.tensor1d(d.bias), tf.tensor1d(d.labels, 'int32'),
  );
}

const CASES: Case[] = [
  { rows: 7, f: 50, u1: 24, u2: 16, classes: 10, images: 3 },
  { rows: 6, f: 13, u1: 37, u2: 19, classes: 10, images: 2 },
  { rows: 1, f: 9, u1: 8, u2: 8, classes: 3, images: 1 },
  { rows: 5, f: 72, u1: 40, u2: 33, classes: 13, images: 4 },
];

const TOL = { rtol: 1e-5, atol: 1e-5 };
const fused = suite('denseTailMargins');

ruleCases(fused, PcDenseTailMargins, CASES, {
  label: (c) => `${c.rows} rows, ${c.f}→${c.u1}→${c.u2}→${c.classes}, ${c.images} images`,
  data: (c, k) => data(c, 50 + k),
  run,
  reference,
  tol: TOL,
});

fused('[wasm] should count an input that changes in only one row of a pair, with a radius only', async () => {
  // No change anywhere except a radius on input 3 of row 1: only row 1 leaves its base's margins.
  const c: Case = { rows: 3, f: 10, u1: 12, u2: 8, classes: 10, images: 1 };
  const d = data(c, 9);
  d.dMu.fill(0);
  d.dR.fill(0);
  d.dR[1 * c.f + 3] = 2;
  const [out] = await runOn('wasm', () => run(c, d));
  const ref = reference(c, d);
  assertClose(out!, ref, TOL, 'one changed input');
  d.dR[1 * c.f + 3] = 0;
  const flat = reference(c, d);
  assert.not.equal(Array.from(ref.subarray(c.classes, 2 * c.classes)), Array.from(flat.subarray(c.classes, 2 * c.classes)), 'the radius moves row 1');
});

fused('[wasm, cpu] should give NaN for a NaN change, in its row only', async () => {
  const c: Case = { rows: 2, f: 8, u1: 8, u2: 8, classes: 4, images: 1 };
  const d = data(c, 5);
  d.labels.fill(1);
  d.dMu[c.f + 2] = NaN;
  for (const backend of ['wasm', 'cpu'] as const) {
    const [out] = await runOn(backend, () => run(c, d));
    for (let j = 0; j < c.classes; j++) {
      if (j === 1) continue;
      assert.ok(Number.isFinite(out![j]!), `${backend}: row 0 class ${j} is finite`);
      assert.ok(Number.isNaN(out![c.classes + j]!), `${backend}: row 1 class ${j} is NaN`);
    }
  }
});

fused('[wasm, cpu] should name the input at fault', async () => {
  const c: Case = { rows: 2, f: 6, u1: 4, u2: 5, classes: 5, images: 2 };
  const d = data(c, 1);
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    if (backend === 'cpu') registerCpuKernels();
    const bad = assertThrowsMatching;
    bad(() => run(c, { ...d, baseRows: Int32Array.from([0, 2]) }), /PcDenseTailMargins: baseRows must be in \[0, 1\], but got 2 at 1/);
    bad(() => run(c, { ...d, labels: Int32Array.from([5, 0]) }), /PcDenseTailMargins: labels must be in \[0, 4\], but got 5 at 0/);
    const k1 = tf.zeros([6, 4]) as tf.Tensor2D;
    const k2 = tf.zeros([4, 5]) as tf.Tensor2D;
    const call = (base: tf.Tensor, dR: tf.Tensor) =>
      denseTailMargins(tf.zeros([2, 6]), dR as tf.Tensor2D, k1, k1, base as tf.Tensor2D, tf.tensor1d([0, 1], 'int32'), k2, k2, tf.zeros([5]), tf.zeros([5, 5]), tf.zeros([5]), tf.tensor1d([0, 1], 'int32'));
    bad(() => call(tf.zeros([2, 5]), tf.zeros([2, 6])), /'base' must be \[images, 4\], but got \[2,5\]/);
    bad(() => call(tf.zeros([2, 4]), tf.zeros([2, 7])), /'dR' must be \[2,6\] like 'dMu', but got \[2,7\]/);
  }
});

fused.run();
