// bounds/certify: certification throughput of the exact fast path vs the naive path (every
// location's full box through the whole network), images/s, on wasm. The fast path skips hidden
// units that are inactive over their whole box (the fused MLP kernel), so its cost depends on the
// weights: each case runs a shipped model on real test images where the repo has one, and the
// MLP 2×2 also runs random-init on uniform random images, for comparison with earlier runs.
import { Bench } from 'tinybench';
import { describeBackend, initBackend, tf, Rng } from '@patchcert/backend';
import { buildModel, loadModel, type SequentialModel } from '@patchcert/models';
import { datasetTensors, loadDataset } from '@patchcert/datasets';
import { certify, squarePatch, type BoundMethod } from '@patchcert/bounds';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import type { BenchRunOptions } from '../internal/options.js';
import { recordBench, recordMedian, recordSection } from '../internal/results.js';

interface Case {
  name: string;
  arch: string;
  shape: [number, number, number];
  patch: number;
  /** A shipped model (`models/<name>/model`) run on its dataset's test images; else random-init weights and images. */
  shipped?: string;
  /** Images per task: naive is slow, so fewer for it (throughput is per image either way). */
  images: Record<BenchPreset, Record<BoundMethod, number>>;
}

const MLP_IMAGES = { quick: { fast: 128, naive: 16 }, full: { fast: 1024, naive: 64 } };
const CASES: Case[] = [
  { name: 'mnist mlp 2x2', arch: 'mlp', shape: [28, 28, 1], patch: 2, shipped: 'mnist-mlp-p22-all-finetune', images: MLP_IMAGES },
  { name: 'mnist mlp 2x2 random-init', arch: 'mlp', shape: [28, 28, 1], patch: 2, images: MLP_IMAGES },
  { name: 'mnist mlp 5x5', arch: 'mlp', shape: [28, 28, 1], patch: 5, shipped: 'mnist-mlp-p55-all-finetune', images: MLP_IMAGES },
  { name: 'mnist cnn-4layer 2x2', arch: 'cnn-4layer', shape: [28, 28, 1], patch: 2, shipped: 'mnist-cnn4-p22-random10', images: { quick: { fast: 8, naive: 4 }, full: { fast: 64, naive: 16 } } },
  { name: 'mnist cnn-4layer 5x5 random-init', arch: 'cnn-4layer', shape: [28, 28, 1], patch: 5, images: { quick: { fast: 8, naive: 4 }, full: { fast: 64, naive: 16 } } },
  { name: 'cifar cnn-4layer 2x2', arch: 'cnn-4layer', shape: [32, 32, 3], patch: 2, shipped: 'cifar-cnn4-p22-random10', images: { quick: { fast: 4, naive: 2 }, full: { fast: 32, naive: 8 } } },
];

/** The repo's shipped models (benchmarks/src/bounds → repo root; the same depth from dist). */
const MODELS_DIR = new URL('../../../models/', import.meta.url);

/** A case's model, images and labels (caller disposes the tensors). */
async function setup(c: Case, n: number, rng: Rng): Promise<{ model: SequentialModel; x: tf.Tensor4D; labels: Int32Array }> {
  if (c.shipped) {
    const model = await loadModel(new URL(`${c.shipped}/model`, MODELS_DIR).pathname);
    const ds = await loadDataset(model.metadata.dataset, { split: 'test', limit: n });
    const { x, y } = datasetTensors(ds);
    const labels = Int32Array.from(y.dataSync());
    y.dispose();
    return { model, x: x as tf.Tensor4D, labels };
  }
  const model = buildModel(c.arch, { inputShape: c.shape, numClasses: 10, seed: 1, ...(c.shape[2] === 3 ? { normalization: CIFAR } : {}) });
  const size = n * c.shape[0] * c.shape[1] * c.shape[2];
  const x = tf.tensor4d(Float32Array.from({ length: size }, () => rng.next()), [n, ...c.shape]);
  return { model, x, labels: Int32Array.from({ length: n }, () => rng.int(10)) };
}

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

  // Loaded before the run (tinybench's hooks are synchronous here).
  const inputs = new Map<string, Awaited<ReturnType<typeof setup>>>();
  for (const c of CASES) for (const method of methods) inputs.set(`${c.name} ${method}`, await setup(c, c.images[preset][method], rng));

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
            ({ model, x, labels } = inputs.get(`${c.name} ${method}`)!);
            held.push({ model, x });
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
  // The machines this runs on are shared: images per CPU-second of this process (the median of
  // three certify calls per method after a warm-up call) is steadier than wall time under load.
  // One call alone swung by 2× on the CNN (a garbage collection or heap growth in it).
  const cpuRate = (c: Case, method: BoundMethod, prune?: boolean): number => {
    const { model, x, labels } = inputs.get(`${c.name} ${method}`)!;
    certify(model, x, labels, squarePatch(c.patch), { method, prune });
    const seconds: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = process.cpuUsage();
      certify(model, x, labels, squarePatch(c.patch), { method, prune });
      const t = process.cpuUsage(t0);
      seconds.push((t.user + t.system) / 1e6);
    }
    return x.shape[0] / seconds.sort((a, b) => a - b)[1]!;
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
      // certify's default prunes locations on CNNs only (bounds README); this is it off.
      'fast prune: false images/cpu-s': cpuRate(c, 'fast', false).toFixed(1),
    };
  }
  if (Object.keys(rows).length === 0) return;
  console.table(rows);
  recordSection({
    title: `fast vs naive images/s, ${describeBackend(info)}`,
    columns: ['model, patch', ...Object.keys(Object.values(rows)[0]!)],
    rows: Object.entries(rows).map(([k, v]) => [k, ...Object.values(v)]),
    notes: [
      'images/cpu-s: images per CPU-second of this process over one certify call after a warm-up call, steadier than wall time on a loaded machine.',
      `Shipped models on their test images: ${CASES.filter((c) => c.shipped).map((c) => `${c.name} = ${c.shipped}`).join(', ')}; "random-init" rows: seed-1 weights on uniform random images.`,
    ],
  });
  for (const { model, x } of inputs.values()) {
    model.dispose();
    x.dispose();
  }
  void held;
}
