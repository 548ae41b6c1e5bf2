// reluElidedMargins (the fused PcReluElidedMargins kernel on wasm and cpu, stock ops elsewhere)
// against the rule written out in float64: ReLU box of (base + delta, rad), then
// c = μ'·W + b and the margin c_y − c_j − r'·|W_y − W_j|. Class counts cover one, two and partial
// column blocks; units are not a multiple of 4; many units are inactive over their box.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, reluElidedMargins, registerCpuKernels, tf, PcReluElidedMargins } from '@patchcert/backend';
import { assertClose, assertThrowsMatching, runOn, seededNormal, reluBox64, elidedMargins64, ruleCases } from './helpers.js';

interface Case {
  batch: number;
  total: number;
  units: number;
  classes: number;
  /** Location indices: one list for every image, or one per image. */
  locs: number[] | number[][];
  radShared: boolean;
}

const locsOf = (c: Case, b: number): number[] => (Array.isArray(c.locs[0]) ? (c.locs as number[][])[b]! : (c.locs as number[]));

function data(c: Case, seed: number) {
  const delta = seededNormal(c.batch * c.total * c.units, seed);
  const base = seededNormal(c.batch * c.units, seed + 1, 0.5);
  const rad = seededNormal((c.radShared ? 1 : c.batch) * c.total * c.units, seed + 2, 0.7).map(Math.abs);
  const kernel = seededNormal(c.units * c.classes, seed + 3, 0.3);
  const bias = seededNormal(c.classes, seed + 4);
  const labels = Int32Array.from({ length: c.batch }, (_, b) => (b * 7 + seed) % c.classes);
  return { delta, base, rad, kernel, bias, labels };
}

/** The rule in float64, independent of every kernel (test/helpers.ts). */
function reference(c: Case, d: ReturnType<typeof data>): Float64Array {
  const count = locsOf(c, 0).length;
  const out = new Float64Array(c.batch * count * c.classes);
  for (let b = 0; b < c.batch; b++) {
    for (const [q, l] of locsOf(c, b).entries()) {
      const m = Float64Array.from({ length: c.units }, (_, i) => d.base[b * c.units + i]! + d.delta[(b * c.total + l) * c.units + i]!);
      const r0 = ((c.radShared ? 0 : b * c.total) + l) * c.units;
      const [mid, rad] = reluBox64(m, d.rad.subarray(r0, r0 + c.units));
      out.set(elidedMargins64(mid, rad, d.kernel, d.bias, d.labels[b]!), (b * count + q) * c.classes);
    }
  }
  return out;
}

function run(c: Case, d: ReturnType<typeof data>): tf.Tensor {
  return reluElidedMargins(
    tf.tensor3d(d.delta, [c.batch, c.total, c.units]),
    tf.tensor2d(d.base, [c.batch, c.units]),
    tf.tensor3d(d.rad, [c.radShared ? 1 : c.batch, c.total, c.units]),
    tf.tensor2d(d.kernel, [c.units, c.classes]),
    tf.tensor1d(d.bias),
    tf.tensor1d(d.labels, 'int32'),
    Array.isArray(c.locs[0]) ? tf.tensor2d(c.locs as number[][], undefined, 'int32') : tf.tensor2d([c.locs as number[]], undefined, 'int32'),
  );
}

const CASES: Case[] = [
  { batch: 3, total: 7, units: 37, classes: 10, locs: [0, 1, 2, 3, 4, 5, 6], radShared: false },
  { batch: 4, total: 9, units: 21, classes: 10, locs: [2, 3, 4, 5, 6], radShared: true },
  { batch: 2, total: 5, units: 19, classes: 3, locs: [4], radShared: false },
  { batch: 2, total: 4, units: 33, classes: 13, locs: [[3, 0, 0], [1, 2, 3]], radShared: false },
  { batch: 3, total: 6, units: 12, classes: 10, locs: [[5, 1], [0, 0], [2, 4]], radShared: true },
  { batch: 1, total: 3, units: 8, classes: 26, locs: [1, 2], radShared: false },
];

const TOL = { rtol: 1e-5, atol: 1e-5 };
const fused = suite('reluElidedMargins');

ruleCases(fused, PcReluElidedMargins, CASES, {
  label: (c) => `${c.batch}×${c.total}×${c.units}, ${c.classes} classes, locations ${JSON.stringify(c.locs)}${c.radShared ? ', shared radius' : ''}`,
  data: (c, k) => data(c, 10 + k),
  run,
  reference,
  tol: TOL,
});

fused('[wasm] should skip only units inactive over their whole box (a unit active in one row still counts)', async () => {
  // Every unit's box is below 0 except one unit in one row: only that row's margins move.
  const c: Case = { batch: 2, total: 3, units: 9, classes: 10, locs: [0, 1, 2], radShared: false };
  const d = data(c, 3);
  d.base.fill(-5);
  d.rad.fill(1);
  d.delta.fill(0);
  d.delta[(1 * c.total + 2) * c.units + 4] = 4.5; // image 1, location 2, unit 4: box [-1.5, 0.5]
  const [out] = await runOn('wasm', () => run(c, d));
  assertClose(out!, reference(c, d), TOL, 'one active unit');
});

fused('[wasm, cpu] should give NaN, never a skipped unit, for a NaN center', async () => {
  const c: Case = { batch: 1, total: 2, units: 5, classes: 4, locs: [0, 1], radShared: false };
  const d = data(c, 5);
  d.delta[c.units + 2] = NaN; // location 1
  for (const backend of ['wasm', 'cpu'] as const) {
    const [out] = await runOn(backend, () => run(c, d));
    const y = d.labels[0]!;
    for (let j = 0; j < c.classes; j++) {
      assert.ok(Number.isFinite(out![j]!), `${backend}: location 0 class ${j} is finite`);
      if (j !== y) assert.ok(Number.isNaN(out![c.classes + j]!), `${backend}: location 1 class ${j} is NaN`);
    }
  }
});

fused('[wasm, cpu] should name the input at fault', async () => {
  const c: Case = { batch: 2, total: 3, units: 4, classes: 5, locs: [0, 1, 2], radShared: false };
  const d = data(c, 1);
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    if (backend === 'cpu') registerCpuKernels();
    const bad = assertThrowsMatching;
    bad(() => run({ ...c, locs: [0, 3] }, d), /locs must be in \[0, 2\], but got 3 at 1/);
    bad(() => run({ ...c, locs: [[0], [1], [2]] }, d), /'locs' must be \[2, count\] or \[1, count\], but got \[3,1\]/);
    bad(() => run(c, { ...d, labels: Int32Array.from([0, 5]) }), /labels must be in \[0, 4\], but got 5 at 1/);
    bad(
      () => reluElidedMargins(tf.zeros([2, 3, 4]), tf.zeros([2, 5]), tf.zeros([2, 3, 4]), tf.zeros([4, 5]), tf.zeros([5]), tf.tensor1d([0, 1], 'int32'), tf.tensor2d([[0]], undefined, 'int32')),
      /'base' must be \[2,4\], but got \[2,5\]/,
    );
    bad(
      () => reluElidedMargins(tf.zeros([2, 3, 4]), tf.zeros([2, 4]), tf.zeros([2, 3, 4]), tf.zeros([4, 5]), tf.zeros([5]), tf.tensor1d([0, 1]) as tf.Tensor1D, tf.tensor2d([[0]], undefined, 'int32')),
      /input 'labels' must be int32, but got float32/,
    );
  }
});

fused.run();
