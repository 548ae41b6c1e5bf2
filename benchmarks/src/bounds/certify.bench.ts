// bounds/certify: certification throughput of the exact fast path vs the naive path (every
// location's full box through the whole network), images/s, on wasm. Models are random-init
// (the cost of IBP does not depend on the weights) and images uniform random.
import { Bench } from 'tinybench';
import { describeBackend, initBackend, tf, Rng } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { certify, squarePatch, type BoundMethod } from '@patchcert/bounds';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import type { BenchRunOptions } from '../internal/options.js';
import { recordBench, recordMedian, recordSection } from '../internal/results.js';

interface Case {
  name: string;
  arch: string;
  shape: [number, number, number];
  patch: number;
  /** Images per task: naive is slow, so fewer for it (throughput is per image either way). */
  images: Record<BenchPreset, Record<BoundMethod, number>>;
}

const CASES: Case[] = [
  { name: 'mnist mlp 2x2', arch: 'mlp', shape: [28, 28, 1], patch: 2, images: { quick: { fast: 64, naive: 16 }, full: { fast: 512, naive: 64 } } },
  { name: 'mnist mlp 5x5', arch: 'mlp', shape: [28, 28, 1], patch: 5, images: { quick: { fast: 64, naive: 16 }, full: { fast: 512, naive: 64 } } },
  { name: 'mnist cnn-4layer 2x2', arch: 'cnn-4layer', shape: [28, 28, 1], patch: 2, images: { quick: { fast: 8, naive: 4 }, full: { fast: 64, naive: 16 } } },
  { name: 'mnist cnn-4layer 5x5', arch: 'cnn-4layer', shape: [28, 28, 1], patch: 5, images: { quick: { fast: 8, naive: 4 }, full: { fast: 64, naive: 16 } } },
  { name: 'cifar cnn-4layer 2x2', arch: 'cnn-4layer', shape: [32, 32, 3], patch: 2, images: { quick: { fast: 4, naive: 2 }, full: { fast: 32, naive: 8 } } },
];

const CIFAR = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };

/**
 * Runs `certify` fast and naive for the MNIST MLP and 4-layer CNN (2×2, 5×5 patches) and the
 * CIFAR 4-layer CNN (2×2), then prints images/s from each task's median time and the ratio.
 * @param preset - `quick` (a few images per task) or `full`.
 * @param options - `backends[0]` replaces wasm; `method` runs only that method (for `--compare method=fast,naive`).
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  const info = await initBackend(options.backends?.[0] ?? 'wasm');
  const methods: BoundMethod[] = options.method ? [options.method] : ['fast', 'naive'];
  const bench = new Bench(benchOptions(preset, `bounds/certify ${describeBackend(info)}`));
  const rng = new Rng(0);
  const held: { model: SequentialModel; x: tf.Tensor4D }[] = [];
  const imagesOf = new Map<string, number>();

  for (const c of CASES) {
    for (const method of methods) {
      const n = c.images[preset][method];
      const task = `${c.name} ${method} (${n} images)`;
      imagesOf.set(task, n);
      let model: SequentialModel | undefined;
      let x: tf.Tensor4D | undefined;
      let labels: Int32Array = new Int32Array(0);
      bench.add(
        task,
        () => {
          const res = certify(model!, x!, labels, squarePatch(c.patch), { method });
          if (res.certified.length !== n) throw new Error('certify returned the wrong count');
        },
        {
          beforeAll() {
            model = buildModel(c.arch, { inputShape: c.shape, numClasses: 10, seed: 1, ...(c.shape[2] === 3 ? { normalization: CIFAR } : {}) });
            const size = n * c.shape[0] * c.shape[1] * c.shape[2];
            x = tf.tensor4d(Float32Array.from({ length: size }, () => rng.next()), [n, ...c.shape]);
            labels = Int32Array.from({ length: n }, () => rng.int(10));
            held.push({ model, x });
          },
          afterAll() {
            model?.dispose();
            x?.dispose();
          },
        },
      );
    }
  }

  await bench.run();
  console.table(bench.table());
  recordBench(bench);
  const rate = (task: string): number => {
    const t = bench.tasks.find((k) => k.name === task);
    const ms = t?.result?.latency?.p50 ?? t?.result?.latency?.mean;
    return ms ? (imagesOf.get(task)! / ms) * 1000 : NaN;
  };
  // The machines this runs on are shared: images per CPU-second of this process (one certify
  // call per method after a warm-up call) is steadier than wall time under load.
  const cpuRate = (c: Case, method: BoundMethod): number => {
    const n = c.images[preset][method];
    const model = buildModel(c.arch, { inputShape: c.shape, numClasses: 10, seed: 1, ...(c.shape[2] === 3 ? { normalization: CIFAR } : {}) });
    const size = n * c.shape[0] * c.shape[1] * c.shape[2];
    const x = tf.tensor4d(Float32Array.from({ length: size }, () => rng.next()), [n, ...c.shape]);
    const labels = Int32Array.from({ length: n }, () => rng.int(10));
    certify(model, x, labels, squarePatch(c.patch), { method });
    const t0 = process.cpuUsage();
    certify(model, x, labels, squarePatch(c.patch), { method });
    const t = process.cpuUsage(t0);
    model.dispose();
    x.dispose();
    return n / ((t.user + t.system) / 1e6);
  };
  const rows: Record<string, Record<string, string>> = {};
  for (const c of CASES) {
    // Per image and without the method in the name, so `--compare method=fast,naive` pairs them.
    for (const m of methods) recordMedian(`${c.name} ms/image`, 1000 / rate(`${c.name} ${m} (${c.images[preset][m]} images)`));
    if (methods.length < 2) continue;
    const f = rate(`${c.name} fast (${c.images[preset].fast} images)`);
    const nv = rate(`${c.name} naive (${c.images[preset].naive} images)`);
    const fc = cpuRate(c, 'fast');
    const nc = cpuRate(c, 'naive');
    rows[c.name] = {
      'naive images/s': nv.toFixed(1),
      'fast images/s': f.toFixed(1),
      'fast / naive': `${(f / nv).toFixed(1)}×`,
      'naive images/cpu-s': nc.toFixed(1),
      'fast images/cpu-s': fc.toFixed(1),
      'fast / naive (cpu)': `${(fc / nc).toFixed(1)}×`,
    };
  }
  if (Object.keys(rows).length === 0) return;
  console.table(rows);
  recordSection({
    title: `fast vs naive images/s, ${describeBackend(info)}`,
    columns: ['model, patch', ...Object.keys(Object.values(rows)[0]!)],
    rows: Object.entries(rows).map(([k, v]) => [k, ...Object.values(v)]),
    notes: ['images/cpu-s: images per CPU-second of this process over one certify call after a warm-up call, steadier than wall time on a loaded machine.'],
  });
  void held;
}
