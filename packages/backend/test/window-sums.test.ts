// windowSums (PcWindowSums on wasm and cpu, stock gathers elsewhere) against the sum written out
// in float64, for square, rectangular and holed windows, one and three channels, unit counts that
// are not a multiple of 4 and zero coefficients (which the kernels skip).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, registerCpuKernels, registerWasmKernels, tf, windowSums, PcWindowSums, PatchcertError } from '@patchcert/backend';
import { assertClose, runOn, seededNormal } from './helpers.js';

interface Case {
  batch: number;
  height: number;
  width: number;
  channels: number;
  units: number;
  /** Window stencil rows (1 = in the window). */
  stencil: number[][];
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
  const coef = seededNormal(c.batch * features, seed);
  for (let i = 0; i < coef.length; i += 5) coef[i] = 0;
  return { coef, weights: seededNormal(features * c.units, seed + 1), features };
}

function reference(c: Case, d: ReturnType<typeof data>): Float64Array {
  const [gh, gw] = grid(c);
  const out = new Float64Array(c.batch * gh * gw * c.units);
  for (let b = 0; b < c.batch; b++) {
    for (let r = 0; r < gh; r++) {
      for (let col = 0; col < gw; col++) {
        const o = ((b * gh + r) * gw + col) * c.units;
        c.stencil.forEach((row, dr) => row.forEach((v, dc) => {
          if (!v) return;
          for (let ch = 0; ch < c.channels; ch++) {
            const f = ((r + dr) * c.width + col + dc) * c.channels + ch;
            for (let i = 0; i < c.units; i++) out[o + i]! += d.coef[b * d.features + f]! * d.weights[f * c.units + i]!;
          }
        }));
      }
    }
  }
  return out;
}

function run(c: Case, d: ReturnType<typeof data>): tf.Tensor {
  const [gh, gw] = grid(c);
  return windowSums(tf.tensor2d(d.coef, [c.batch, d.features]), tf.tensor2d(d.weights, [d.features, c.units]), {
    width: c.width, channels: c.channels, gridHeight: gh, gridWidth: gw, taps: taps(c),
  });
}

const CASES: Case[] = [
  { batch: 2, height: 7, width: 6, channels: 1, units: 13, stencil: [[1, 1], [1, 1]] },
  { batch: 1, height: 5, width: 8, channels: 3, units: 8, stencil: [[1, 1, 1]] },
  { batch: 3, height: 6, width: 6, channels: 2, units: 5, stencil: [[0, 1, 0], [1, 1, 1], [0, 1, 0]] },
  { batch: 2, height: 4, width: 4, channels: 1, units: 3, stencil: [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]] },
];

const TOL = { rtol: 1e-5, atol: 1e-6 };
const ws = suite('windowSums');

for (const [k, c] of CASES.entries()) {
  const label = `${c.batch}×${c.height}×${c.width}×${c.channels}, ${c.units} units, window ${JSON.stringify(c.stencil)}`;
  for (const backend of ['wasm', 'cpu'] as const) {
    ws(`[${backend}] should equal the float64 sums (${label})`, async () => {
      const d = data(c, 20 + k);
      const [out] = await runOn(backend, () => run(c, d));
      assertClose(out!, reference(c, d), TOL, label);
    });
  }
  ws(`[stock ops] should equal the float64 sums where no kernel is registered (${label})`, async () => {
    const d = data(c, 20 + k);
    await initBackend('wasm');
    tf.unregisterKernel(PcWindowSums, 'wasm');
    try {
      const [out] = await runOn('wasm', () => run(c, d));
      assertClose(out!, reference(c, d), TOL, label);
    } finally {
      registerWasmKernels();
    }
  });
}

ws('[wasm, cpu] should name the input or attribute at fault', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    if (backend === 'cpu') registerCpuKernels();
    const bad = (f: () => unknown, pattern: RegExp) =>
      assert.throws(() => tf.tidy(() => f() as tf.Tensor), (e: unknown) => e instanceof PatchcertError && pattern.test(e.message), String(pattern));
    const attrs = { width: 4, channels: 1, gridHeight: 3, gridWidth: 3, taps: [0, 1, 4, 5] };
    bad(() => windowSums(tf.zeros([2, 16]), tf.zeros([15, 3]), attrs), /'weights' must have 16 rows/);
    bad(() => windowSums(tf.zeros([2, 16]), tf.zeros([16, 3]), { ...attrs, taps: [0, 6] }), /every tap must keep every window inside the 16 features, but got tap 6/);
    bad(() => windowSums(tf.zeros([2, 16]), tf.zeros([16, 3]), { ...attrs, gridHeight: 0 }), /gridHeight, gridWidth must be positive integers/);
  }
});

ws.run();
