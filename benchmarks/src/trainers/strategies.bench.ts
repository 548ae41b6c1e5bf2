// trainers/strategies: one certificate-training step (bounds, backward, Adam) per strategy, for
// the MNIST MLP and 4-layer CNN on wasm, as training throughput (images/s) and peak memory.
import { Bench } from 'tinybench';
import { initBackend, describeBackend, tf, Rng } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { loadDataset, datasetTensors } from '@patchcert/datasets';
import type { MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import { Adam, allPatches, certificateLoss, makeThreat, naturalTraining, randomPatches } from '@patchcert/trainers';
import { benchOptions, type BenchPreset } from '../internal/preset.js';

interface Case {
  arch: 'mlp' | 'cnn-4layer';
  strategy: () => MarginStrategy;
  label: string;
  /** Images per step: all-patch bounds every location of every image, so it gets fewer. */
  batch: number;
}

export async function run(preset: BenchPreset): Promise<void> {
  await initBackend('wasm');
  const batch = preset === 'quick' ? 64 : 256;
  // All-patch keeps every location's bounds on the gradient tape: 4 CNN images already peak at
  // ~0.7 GB of tensors, so full stays at 8 to fit wasm's 4 GB heap.
  const allBatch = preset === 'quick' ? 4 : 8;
  const threat = makeThreat({ type: 'patch', size: 2 });
  const ds = await loadDataset('mnist', { split: 'train', limit: batch });
  const cases: Case[] = [];
  for (const arch of ['mlp', 'cnn-4layer'] as const) {
    cases.push({ arch, batch, label: 'natural', strategy: () => naturalTraining() });
    for (const k of [1, 5, 10]) cases.push({ arch, batch, label: `random(${k})`, strategy: () => randomPatches(k, threat) });
    // The same random(10) through bounds' naive path (full boxes), to show what the fast path buys.
    cases.push({ arch, batch, label: 'random(10) naive', strategy: () => randomPatches(10, threat, { method: 'naive' }) });
    cases.push({ arch, batch: allBatch, label: 'all', strategy: () => allPatches(threat) });
  }
  const bench = new Bench(benchOptions(preset, `trainers/strategies ${describeBackend()}`));
  const memory: Record<string, { rss: number; peakBytes: number; batch: number }> = {};
  for (const c of cases) {
    const name = `${c.label} ${c.arch} step ${c.batch}x28x28x1 p2x2`;
    let state: { model: SequentialModel; adam: Adam; x: tf.Tensor4D; y: tf.Tensor1D; ctx: MarginStrategyContext; strategy: MarginStrategy } | undefined;
    let peakRss = 0;
    const step = (): void => {
      const s = state!;
      const { value, grads } = tf.variableGrads(() => certificateLoss(s.strategy.margins(s.ctx), s.y), s.model.trainableVariables());
      s.adam.step(grads, 1e-4);
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    };
    bench.add(name, step, {
      beforeAll: () => {
        const model = buildModel(c.arch, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
        const { x, y } = datasetTensors(ds, Int32Array.from({ length: c.batch }, (_, i) => i));
        const ctx: MarginStrategyContext = { model, images: x, labels: y, eps: 1, rng: new Rng(1), training: true };
        state = { model, adam: new Adam(model.trainableVariables()), x, y, ctx, strategy: c.strategy() };
      },
      afterAll: async () => {
        const s = state!;
        const prof = await tf.profile(() => step());
        memory[name] = { rss: peakRss, peakBytes: prof.peakBytes, batch: c.batch };
        s.adam.dispose();
        s.model.dispose();
        tf.dispose([s.x, s.y]);
        state = undefined;
      },
    });
  }
  await bench.run();
  console.log(`\n${bench.name}`);
  console.table(bench.table());
  // Throughput and memory per task: images per second from the median step time, the process's
  // peak RSS while stepping, and tfjs's peak tensor bytes of one profiled step.
  const rows: Record<string, Record<string, string | number>> = {};
  for (const task of bench.tasks) {
    const latency = task.result?.latency;
    const mem = memory[task.name];
    rows[task.name] = {
      'images/s': latency && mem ? ((mem.batch / (latency.p50 ?? latency.mean)) * 1000).toFixed(1) : 'n/a',
      'peak RSS MiB': mem ? Math.round(mem.rss / 1048576) : 'n/a',
      'peak tensor MiB': mem ? (mem.peakBytes / 1048576).toFixed(1) : 'n/a',
    };
  }
  console.table(rows);
}
