// windowSums (PcWindowSums on wasm and cpu, stock gathers elsewhere) against the sum written out
// in float64, for square, rectangular and holed windows, one and three channels, unit counts that
// are not a multiple of 4, zero coefficients (which the kernels skip), every window of a grid
// (corners included) or per-image lists, and one coefficient row shared by every image.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, registerCpuKernels, tf, windowSums, PcWindowSums } from '@patchcert/backend';
import { assertClose, assertThrowsMatching, runOn, runOnStockOps, seededNormal } from './helpers.js';

interface Case {
  batch: number;
  height: number;
  width: number;
  channels: number;
  units: number;
  /** Window stencil rows (1 = in the window). */
  stencil: number[][];
  /** Per-image window origins [row, col]; default every origin of the grid, shared. */
  at?: [number, number][][];
  /** One coefficient row for every image. */
  coefShared?: boolean;
}

/** Window origins per image as [row, col] (every image the same when `at` is not given). */
function originsOf(c: Case, b: number): [number, number][] {
  if (c.at) return c.at[b]!;
  const [gh, gw] = grid(c);
  return Array.from({ length: gh * gw }, (_, l) => [Math.floor(l / gw), l % gw] as [number, number]);
}

function taps(c: Case): number[] {
  const out: number[] = [];
  c.stencil.forEach((row, dr) => row.forEach((v, dc) => {
    if (v) for (let ch = 0; ch < c.channels; ch++) out.push((dr * c.width + dc) * c.channels + ch);
  }));
  return out;
}

function grid(c: Case): [number, number] {
  return [c.height - c.stencil.length + 1, c.width - c.stencil[0]!.length + 1];
}

function data(c: Case, seed: number) {
  const features = c.height * c.width * c.channels;
  const coef = seededNormal((c.coefShared ? 1 : c.batch) * features, seed);
  for (let i = 0; i < coef.length; i += 5) coef[i] = 0;
  return { coef, weights: seededNormal(features * c.units, seed + 1), features };
}

function reference(c: Case, d: ReturnType<typeof data>): Float64Array {
  const count = originsOf(c, 0).length;
  const out = new Float64Array(c.batch * count * c.units);
  for (let b = 0; b < c.batch; b++) {
    originsOf(c, b).forEach(([r, col], q) => {
      const o = (b * count + q) * c.units;
      c.stencil.forEach((row, dr) => row.forEach((v, dc) => {
        if (!v) return;
        for (let ch = 0; ch < c.channels; ch++) {
          const f = ((r + dr) * c.width + col + dc) * c.channels + ch;
          for (let i = 0; i < c.units; i++) out[o + i]! += d.coef[(c.coefShared ? 0 : b) * d.features + f]! * d.weights[f * c.units + i]!;
        }
      }));
    });
  }
  return out;
}

function run(c: Case, d: ReturnType<typeof data>): tf.Tensor {
  const lists = c.at ? c.batch : 1;
  const origins = Array.from({ length: lists }, (_, b) => originsOf(c, b).map(([r, col]) => (r * c.width + col) * c.channels));
  return windowSums(
    tf.tensor2d(d.coef, [c.coefShared ? 1 : c.batch, d.features]),
    tf.tensor2d(d.weights, [d.features, c.units]),
    tf.tensor2d(origins, undefined, 'int32'),
    taps(c),
  );
}

const CASES: Case[] = [
  { batch: 2, height: 7, width: 6, channels: 1, units: 13, stencil: [[1, 1], [1, 1]] },
  { batch: 1, height: 5, width: 8, channels: 3, units: 8, stencil: [[1, 1, 1]] },
  { batch: 3, height: 6, width: 6, channels: 2, units: 5, stencil: [[0, 1, 0], [1, 1, 1], [0, 1, 0]] },
  { batch: 2, height: 4, width: 4, channels: 1, units: 3, stencil: [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]] },
  { batch: 2, height: 6, width: 5, channels: 2, units: 9, stencil: [[1, 1], [1, 1]], at: [[[4, 3], [0, 0], [2, 1]], [[0, 3], [4, 0], [4, 3]]] },
  { batch: 3, height: 5, width: 5, channels: 1, units: 7, stencil: [[1, 1], [0, 1]], at: [[[3, 3]], [[0, 0]], [[1, 2]]], coefShared: true },
  { batch: 1, height: 5, width: 5, channels: 1, units: 6, stencil: [[1, 1, 1]], coefShared: true },
];

const TOL = { rtol: 1e-5, atol: 1e-6 };
const ws = suite('windowSums');

for (const [k, c] of CASES.entries()) {
  const label = `${c.batch}×${c.height}×${c.width}×${c.channels}, ${c.units} units, window ${JSON.stringify(c.stencil)}${c.at ? `, at ${JSON.stringify(c.at)}` : ''}${c.coefShared ? ', shared coefficients' : ''}`;
  for (const backend of ['wasm', 'cpu'] as const) {
    ws(`[${backend}] should equal the float64 sums (${label})`, async () => {
      const d = data(c, 20 + k);
      const [out] = await runOn(backend, () => run(c, d));
      assertClose(out!, reference(c, d), TOL, label);
    });
  }
  ws(`[stock ops] should equal the float64 sums where no kernel is registered (${label})`, async () => {
    const d = data(c, 20 + k);
    const [out] = await runOnStockOps(PcWindowSums, () => run(c, d));
    assertClose(out!, reference(c, d), TOL, label);
  });
}

ws('[wasm, cpu] should name the input or attribute at fault', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    if (backend === 'cpu') registerCpuKernels();
    const bad = assertThrowsMatching;
    const origins = tf.tensor2d([[0, 5, 10]], undefined, 'int32');
    bad(() => windowSums(tf.zeros([2, 16]), tf.zeros([15, 3]), origins, [0, 1, 4, 5]), /'weights' must have 16 rows/);
    bad(() => windowSums(tf.zeros([2, 16]), tf.zeros([16, 3]), origins, [0, 6]), /origin 10 at 2 with tap 6 does not/);
    bad(() => windowSums(tf.zeros([2, 16]), tf.zeros([16, 3]), tf.tensor2d([[0], [1], [2]], undefined, 'int32'), [0]), /must have the same first dimension or 1/);
    bad(() => windowSums(tf.zeros([2, 16]), tf.zeros([16, 3]), tf.tensor2d([[0]]) as tf.Tensor2D, [0]), /input 'origins' must be int32, but got float32/);
  }
});

ws.run();
