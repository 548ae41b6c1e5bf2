// reluDenseReluMargins (the fused PcReluDenseReluMargins kernel on wasm and cpu, stock ops
// elsewhere) against the rule written out in float64: ReLU box of (mu, r), the dense layer in
// center/radius form, ReLU box again, then c = μ'·W + b and the margin c_y − c_j − r'·|W_y − W_j|.
// Cases cover odd row counts (a pair's second row missing), neighbouring rows with equal and
// different labels, widths that are not multiples of 4 or 8, two class blocks, and many units
// inactive over their box.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, reluDenseReluMargins, registerCpuKernels, tf, PcReluDenseReluMargins } from '@patchcert/backend';
import { assertClose, assertThrowsMatching, runOn, seededNormal, reluBox64, denseBox64, elidedMargins64, ruleCases } from './helpers.js';

interface Case {
  rows: number;
  u1: number;
  u2: number;
  classes: number;
  /** Labels per row, or undefined for a seeded mix. */
  labels?: number[];
}

function data(c: Case, seed: number) {
  const mu = seededNormal(c.rows * c.u1, seed, 0.8);
  const r = seededNormal(c.rows * c.u1, seed + 1, 0.5).map(Math.abs);
  const kernel2 = seededNormal(c.u1 * c.u2, seed + 2, 0.4);
  const bias2 = seededNormal(c.u2, seed + 3, 0.3);
  const kernel = seededNormal(c.u2 * c.classes, seed + 4, 0.3);
  const bias = seededNormal(c.classes, seed + 5);
  const labels = Int32Array.from(c.labels ?? Array.from({ length: c.rows }, (_, q) => (Math.floor(q / 3) * 7 + seed) % c.classes));
  return { mu, r, kernel2, bias2, kernel, bias, labels };
}

/** The rule in float64, independent of every kernel (test/helpers.ts). */
function reference(c: Case, d: ReturnType<typeof data>): Float64Array {
  const out = new Float64Array(c.rows * c.classes);
  for (let q = 0; q < c.rows; q++) {
    const [m1, r1] = reluBox64(d.mu.subarray(q * c.u1, (q + 1) * c.u1), d.r.subarray(q * c.u1, (q + 1) * c.u1));
    const [m2, r2] = reluBox64(...denseBox64(m1, r1, d.kernel2, d.bias2));
    out.set(elidedMargins64(m2, r2, d.kernel, d.bias, d.labels[q]!), q * c.classes);
  }
  return out;
}

function run(c: Case, d: ReturnType<typeof data>): tf.Tensor {
  const kernel2 = tf.tensor2d(d.kernel2, [c.u1, c.u2]);
  return reluDenseReluMargins(
    tf.tensor2d(d.mu, [c.rows, c.u1]), tf.tensor2d(d.r, [c.rows, c.u1]), kernel2, tf.abs(kernel2), tf.tensor1d(d.bias2),
    tf.tensor2d(d.kernel, [c.u2, c.classes]), tf.tensor1d(d.bias), tf.tensor1d(d.labels, 'int32'),
  );
}

const CASES: Case[] = [
  { rows: 7, u1: 37, u2: 24, classes: 10 },
  { rows: 6, u1: 16, u2: 19, classes: 10, labels: [3, 3, 1, 2, 5, 5] },
  { rows: 1, u1: 9, u2: 8, classes: 3 },
  { rows: 5, u1: 64, u2: 37, classes: 13 },
  { rows: 4, u1: 3, u2: 6, classes: 26, labels: [0, 25, 25, 0] },
];

const TOL = { rtol: 1e-5, atol: 1e-5 };
const fused = suite('reluDenseReluMargins');

ruleCases(fused, PcReluDenseReluMargins, CASES, {
  label: (c) => `${c.rows} rows, ${c.u1}→${c.u2}→${c.classes}${c.labels ? `, labels ${JSON.stringify(c.labels)}` : ''}`,
  data: (c, k) => data(c, 30 + k),
  run,
  reference,
  tol: TOL,
});

fused('[wasm] should count a unit active in only one row of a pair', async () => {
  // Every first-layer unit inactive except unit 5 of row 1: only row 1 leaves the bias's margins.
  const c: Case = { rows: 3, u1: 12, u2: 16, classes: 10, labels: [4, 4, 4] };
  const d = data(c, 3);
  d.mu.fill(-3);
  d.r.fill(1);
  d.mu[1 * c.u1 + 5] = 2.5;
  const [out] = await runOn('wasm', () => run(c, d));
  const ref = reference(c, d);
  assertClose(out!, ref, TOL, 'one active unit');
  assert.not.equal(Array.from(ref.subarray(c.classes, 2 * c.classes)), Array.from(ref.subarray(0, c.classes)), 'row 1 differs from row 0');
});

fused('[wasm, cpu] should give NaN for a NaN center, in its row only', async () => {
  const c: Case = { rows: 2, u1: 8, u2: 8, classes: 4, labels: [1, 1] };
  const d = data(c, 5);
  d.mu[c.u1 + 3] = NaN;
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
  const c: Case = { rows: 2, u1: 4, u2: 6, classes: 5 };
  const d = data(c, 1);
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    if (backend === 'cpu') registerCpuKernels();
    const bad = assertThrowsMatching;
    bad(() => run(c, { ...d, labels: Int32Array.from([0, 5]) }), /PcReluDenseReluMargins: labels must be in \[0, 4\], but got 5 at 1/);
    const k2 = tf.zeros([4, 6]) as tf.Tensor2D;
    const args = (over: Partial<Record<'r' | 'abs' | 'bias2' | 'kernel', tf.Tensor>>) =>
      reluDenseReluMargins(tf.zeros([2, 4]), (over.r ?? tf.zeros([2, 4])) as tf.Tensor2D, k2, (over.abs ?? k2) as tf.Tensor2D, (over.bias2 ?? tf.zeros([6])) as tf.Tensor1D,
        (over.kernel ?? tf.zeros([6, 5])) as tf.Tensor2D, tf.zeros([5]), tf.tensor1d([0, 1], 'int32'));
    bad(() => args({ r: tf.zeros([2, 5]) }), /'r' must be \[2,4\] like 'mu', but got \[2,5\]/);
    bad(() => args({ abs: tf.zeros([4, 7]) }), /'absKernel2' must be \[4,6\] like 'kernel2', but got \[4,7\]/);
    bad(() => args({ bias2: tf.zeros([5]) }), /'bias2' must be \[6\], but got \[5\]/);
    bad(() => args({ kernel: tf.zeros([5, 5]) }), /'kernel' must be \[6, classes\], but got \[5,5\]/);
  }
});

fused.run();
