// ablation/certify: what ablation certificates cost on MNIST: derandomized column smoothing
// (W = 28 forward passes per image) and random ablation (n0 + n passes per image), for the MLP
// and the 4-layer CNN base classifiers, on wasm. Weights are untrained: the cost of a forward
// pass does not depend on them.
import { Bench } from 'tinybench';
import { describeBackend, initBackend, tf } from '@patchcert/backend';
import { datasetTensors, loadDataset } from '@patchcert/datasets';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { certifyDerandomizedColumns, certifyRandomAblation } from '@patchcert/ablation';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import type { BenchRunOptions } from '../internal/options.js';
import { recordBench } from '../internal/results.js';

interface Row {
  task: string;
  images: number;
  passesPerImage: number;
}

/**
 * Runs the ablation certification benchmarks on wasm and prints tinybench's table, then the
 * forward passes per image and images/s derived from each task's mean time.
 * @param preset - `quick` (a few images per task) or `full`.
 * @param options - `backends[0]` replaces wasm.
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  const info = await initBackend(options.backends?.[0] ?? 'wasm');
  const test = await loadDataset('mnist', { split: 'test', limit: 64 });
  const quick = preset === 'quick';
  const bench = new Bench(benchOptions(preset, `ablation/certify ${describeBackend(info)}`));
  const rows: Row[] = [];
  let x: tf.Tensor4D | undefined;
  let labels: number[] = [];
  const models: SequentialModel[] = [];

  for (const arch of ['mlp', 'cnn-4layer'] as const) {
    const model = buildModel(arch, { inputShape: [28, 28, 2], numClasses: 10, seed: 0 });
    models.push(model);
    const colImages = quick ? 8 : 32;
    const colTask = `derandomized columns s=4 ${arch} 28x28 ×${colImages} images`;
    let passes = 0;
    bench.add(colTask, () => {
      const xs = tf.slice(x!, [0, 0, 0, 0], [colImages, 28, 28, 1]);
      passes = certifyDerandomizedColumns(model, xs, labels.slice(0, colImages), { bandWidth: 4, patchSizes: [2, 5] }).forwardPassesPerImage;
      xs.dispose();
    });
    rows.push({ task: colTask, images: colImages, passesPerImage: 28 });
    const n = quick ? 200 : 1000;
    const raImages = quick ? 2 : 8;
    const raTask = `random ablation kKeep=45 n0=20 n=${n} ${arch} 28x28 ×${raImages} images`;
    bench.add(raTask, () => {
      const xs = tf.slice(x!, [0, 0, 0, 0], [raImages, 28, 28, 1]);
      passes = certifyRandomAblation(model, xs, labels.slice(0, raImages), { kKeep: 45, k: [1, 4, 10], n0: 20, n }).forwardPassesPerImage;
      xs.dispose();
      if (passes !== 20 + n) throw new Error(`expected ${20 + n} passes per image, got ${passes}`);
    });
    rows.push({ task: raTask, images: raImages, passesPerImage: 20 + n });
  }

  const data = datasetTensors(test);
  x = data.x;
  labels = Array.from(data.y.dataSync());
  data.y.dispose();
  try {
    await bench.run();
  } finally {
    x.dispose();
    for (const m of models) m.dispose();
  }
  console.table(bench.table());
  recordBench(bench);
  console.log(`\n${bench.name}: cost per image (from the mean time of each task)`);
  console.table(
    rows.map((r) => {
      const ms = bench.getTask(r.task)?.result?.latency.mean ?? Number.NaN;
      const perSecond = (r.images * 1000) / ms;
      return {
        task: r.task,
        'forward passes / image': r.passesPerImage,
        'images / s': Number(perSecond.toFixed(2)),
        'forward passes / s': Math.round(perSecond * r.passesPerImage),
      };
    }),
  );
}
