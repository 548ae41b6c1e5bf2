// strategies/comparison: what one certificate-training step costs with every strategy of the
// paper (natural, random(1/5/10/20), guided(10/20), Pool 2/4/2-2, all-patch; 2×2 patch), for the
// MNIST MLP and 4-layer CNN and the CIFAR 4-layer CNN, on every backend that starts: per step,
// per image, per epoch (extrapolated: ms per image × training-set size), and peak memory (process
// RSS and tfjs' peak tensor bytes). Weights are untrained and images uniform noise: the cost of a
// step does not depend on either.
import { Bench } from 'tinybench';
import { initBackend, tf, Rng, type BackendName } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import { Adam } from '@patchcert/trainers';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import { startableBackends } from '../internal/backends.js';
import type { BenchRunOptions } from '../internal/options.js';
import { fmt, medianMs, recordBench, recordMedian, recordSection, type Cell } from '../internal/results.js';
import { buildStrategy, CIFAR_NORMALIZATION, strategyRows, trainingStep, type StepState, type StrategyRow } from '../internal/strategy-rows.js';

interface ModelCase {
  name: string;
  arch: 'mlp' | 'cnn-4layer';
  dataset: 'mnist' | 'cifar10';
  shape: [number, number, number];
  /** Training-set size, for the per-epoch extrapolation. */
  trainImages: number;
  lr: number;
}

const MODELS: ModelCase[] = [
  { name: 'MNIST MLP', arch: 'mlp', dataset: 'mnist', shape: [28, 28, 1], trainImages: 60000, lr: 5e-4 },
  { name: 'MNIST 4-layer CNN', arch: 'cnn-4layer', dataset: 'mnist', shape: [28, 28, 1], trainImages: 60000, lr: 5e-4 },
  { name: 'CIFAR 4-layer CNN', arch: 'cnn-4layer', dataset: 'cifar10', shape: [32, 32, 3], trainImages: 50000, lr: 1e-3 },
];

/** Images per step: every-location strategies keep all locations on the tape, so they get fewer. */
interface Batches {
  perStep: number;
  everyLocation: number;
}

/**
 * Batch sizes per backend and preset, and which models a backend runs. tfjs-cpu runs convolutions
 * as scalar loops (an all-patch CNN step of one image takes minutes), so the quick preset keeps it
 * to the MLP and the full preset adds the MNIST CNN without the every-location rows.
 */
function plan(backend: BackendName, preset: BenchPreset): { batches: Batches; runs: (m: ModelCase, r: StrategyRow) => string | undefined } {
  if (backend === 'cpu') {
    return {
      batches: preset === 'quick' ? { perStep: 4, everyLocation: 1 } : { perStep: 16, everyLocation: 2 },
      runs: (m, r) => {
        if (m.arch === 'mlp') return undefined;
        if (preset === 'quick') return 'cpu backend: CNN rows only in the full preset (scalar convolutions, minutes per step)';
        if (m.dataset === 'cifar10' || r.everyLocation) return 'cpu backend: over a minute per image, left out';
        return undefined;
      },
    };
  }
  // All-patch keeps every location's bounds on the gradient tape: 4 CNN images peak near 0.7 GB
  // of tensors, so the full preset stays at 8 to fit wasm's 4 GB heap.
  return { batches: preset === 'quick' ? { perStep: 32, everyLocation: 4 } : { perStep: 128, everyLocation: 8 }, runs: () => undefined };
}

interface RowResult {
  model: ModelCase;
  row: StrategyRow;
  batch: number;
  task?: string;
  unavailable?: string;
  peakRss?: number;
  tfPeakBytes?: number;
  tfLiveBytes?: number;
  /** Mean CPU ms of this process per step, over every step the task ran. */
  cpuMsPerStep?: number;
}

const MiB = 1048576;

async function runOn(backend: BackendName, description: string, preset: BenchPreset, options: BenchRunOptions): Promise<void> {
  await initBackend(backend);
  const { batches, runs } = plan(backend, preset);
  const results: RowResult[] = [];
  for (const model of MODELS) {
    const bench = new Bench(benchOptions(preset, `strategies/comparison ${model.name} ${description}`));
    for (const row of strategyRows(options.method)) {
      const batch = row.everyLocation ? batches.everyLocation : batches.perStep;
      const res: RowResult = { model, row, batch };
      results.push(res);
      const skip = runs(model, row);
      if (skip) {
        res.unavailable = skip;
        continue;
      }
      // Built once here to learn whether the strategy exists; the task builds its own.
      const probe = buildModel(model.arch, { inputShape: model.shape, numClasses: 10, seed: 1 });
      const built = await buildStrategy(row, probe, model.dataset, model.arch, model.lr);
      if ('unavailable' in built) res.unavailable = built.unavailable;
      else built.strategy.dispose?.();
      probe.dispose();
      if (res.unavailable) continue;

      const task = `${row.label} ${model.arch} step ${batch}x${model.shape.join('x')} p2x2`;
      res.task = task;
      let state: StepState | undefined;
      let peakRss = 0;
      let cpuMs = 0;
      let cpuSteps = 0;
      const step = (): void => {
        const c0 = process.cpuUsage();
        trainingStep(state!, 1, model.lr);
        const c = process.cpuUsage(c0);
        // CPU time of this process per step: steadier than wall time on a machine shared with
        // other jobs (wasm runs on one thread, so on an idle machine the two agree).
        cpuMs += (c.user + c.system) / 1000;
        cpuSteps++;
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      };
      bench.add(task, step, {
        beforeAll: async () => {
          const m = buildModel(model.arch, {
            inputShape: model.shape,
            numClasses: 10,
            seed: 1,
            ...(model.dataset === 'cifar10' ? { normalization: CIFAR_NORMALIZATION } : {}),
          });
          const b = await buildStrategy(row, m, model.dataset, model.arch, model.lr);
          if ('unavailable' in b) throw new Error(b.unavailable);
          state = {
            model: m,
            adam: new Adam(m.trainableVariables()),
            strategy: b.strategy,
            x: tf.randomUniform([batch, ...model.shape], 0, 1, 'float32', 1) as tf.Tensor4D,
            y: tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'),
            rng: new Rng(1),
          };
          // The first step builds lazily made state (guided's U-Net) outside the timed runs.
          step();
        },
        afterAll: async () => {
          const s = state!;
          const prof = await tf.profile(() => step());
          res.peakRss = peakRss;
          res.cpuMsPerStep = cpuMs / cpuSteps;
          res.tfPeakBytes = prof.peakBytes;
          res.tfLiveBytes = tf.memory().numBytes;
          s.strategy.dispose?.();
          s.adam.dispose();
          s.model.dispose();
          tf.dispose([s.x, s.y]);
          state = undefined;
        },
      });
    }
    // A model this backend leaves out altogether gets no tables; the summary's notes say why.
    if (bench.tasks.length === 0) continue;
    await bench.run();
    console.log(`\n${bench.name}`);
    console.table(bench.table());
    recordBench(bench);
    report(bench, backend, description, model, results.filter((r) => r.model === model));
  }
  summary(backend, description, results);
}

/** ms per image of a row, from the median step time. */
function perImage(bench: Bench | undefined, r: RowResult): number {
  return r.task && bench ? medianMs(bench, r.task) / r.batch : Number.NaN;
}

const perImageOf = new Map<RowResult, number>();

function report(bench: Bench, backend: BackendName, description: string, model: ModelCase, rows: RowResult[]): void {
  const all = rows.find((r) => r.row.config.type === 'all');
  for (const r of rows) perImageOf.set(r, perImage(bench, r));
  const cpuPerImage = (r: RowResult): number => (r.cpuMsPerStep ?? Number.NaN) / r.batch;
  const allPerImage = all ? perImageOf.get(all)! : Number.NaN;
  const allCpuPerImage = all ? cpuPerImage(all) : Number.NaN;
  const table: Cell[][] = [];
  const printed: Record<string, Record<string, string>> = {};
  for (const r of rows) {
    const ms = perImageOf.get(r)!;
    const cpu = cpuPerImage(r);
    // Per image and without the batch in the name, so --compare pairs rows whose batch differs by backend.
    recordMedian(`${model.name} ${r.row.label} ms/image`, ms);
    const epochMin = (ms * model.trainImages) / 60000;
    const cells: Cell[] = r.unavailable
      ? [r.row.label, r.batch, 'not available', '', '', '', '', '', '', '', '', r.unavailable]
      : [
          r.row.label,
          r.batch,
          fmt(medianMs(bench, r.task!)),
          fmt(ms),
          fmt(cpu),
          fmt(epochMin),
          fmt(ms / allPerImage),
          fmt(cpu / allCpuPerImage),
          r.peakRss ? Math.round(r.peakRss / MiB) : 'n/a',
          r.tfPeakBytes !== undefined ? fmt(r.tfPeakBytes / MiB) : 'n/a',
          r.tfLiveBytes !== undefined ? fmt(r.tfLiveBytes / MiB) : 'n/a',
          '',
        ];
    table.push(cells);
    printed[r.row.label] = {
      batch: String(cells[1]),
      'step ms': String(cells[2]),
      'ms/image': String(cells[3]),
      'cpu ms/image': String(cells[4]),
      'epoch min': String(cells[5]),
      '× all': String(cells[6]),
      '× all (cpu)': String(cells[7]),
      'RSS MiB': String(cells[8]),
      'tf peak MiB': String(cells[9]),
    };
  }
  console.log(`\n${model.name} on ${backend}: per step, per image, per epoch (${model.trainImages} images, extrapolated), memory`);
  console.table(printed);
  recordSection({
    title: `${model.name}, 2×2 patch, ${description}`,
    columns: ['strategy', 'batch', 'step ms (median)', 'ms / image', 'cpu ms / image', `epoch min (${model.trainImages / 1000}k images)`, '× all-patch', '× all-patch (cpu)', 'peak RSS MiB', 'tf peak MiB', 'tf live MiB after', 'why not'],
    rows: table,
    notes: [
      'epoch min = ms / image × training-set size (one step per batch of the same size); × all-patch = ms / image over all-patch\'s; cpu ms / image = CPU time of this process per step (mean over every step the task ran) / batch, steadier than wall time on a shared machine.',
      'Pool rows: the paper (Table 6) has them for the 4-layer CNN only; on the MLP the same per-layer block lists ([2], [4], [2, 1, 2]) apply to the MLP\'s layer list.',
      'peak RSS is the process high-water mark while the row ran (rows run cheapest first; the wasm heap never shrinks, so a row inherits the peak of the rows before it); tf peak is tfjs\' peak tensor bytes in one profiled step; tf live is what stayed allocated after it.',
    ],
  });
}

/** One line per strategy, one column per model: epoch minutes on this backend; n/a where a row did not run. */
function summary(backend: BackendName, description: string, results: RowResult[]): void {
  const labels = [...new Set(results.map((r) => r.row.label))];
  const rows: Cell[][] = labels.map((label) => [
    label,
    ...MODELS.map((m) => {
      const r = results.find((x) => x.model === m && x.row.label === label);
      if (!r || r.unavailable) return 'n/a';
      const cpu = (r.cpuMsPerStep ?? Number.NaN) / r.batch;
      return `${fmt(((perImageOf.get(r) ?? Number.NaN) * m.trainImages) / 60000)} (${fmt((cpu * m.trainImages) / 60000)})`;
    }),
  ]);
  // One note per model and reason: a backend that leaves a model out says so once.
  const notes = [...new Set(results.filter((r) => r.unavailable).map((r) => `${r.model.name}: ${r.unavailable}`))];
  recordSection({ title: `epoch minutes per strategy, wall (cpu), extrapolated from ms / image, ${description}`, columns: ['strategy', ...MODELS.map((m) => m.name)], rows, notes });
  console.log(`\nstrategies/comparison on ${backend}: epoch minutes, wall (cpu), extrapolated from ms / image`);
  console.table(Object.fromEntries(rows.map(([l, ...c]) => [String(l), Object.fromEntries(MODELS.map((m, i) => [m.name, String(c[i])]))])));
  for (const n of notes) console.log(`not available: ${n}`);
}

/**
 * Runs the strategy cost comparison on every backend that starts (or `options.backends`).
 * @param preset - `quick` (small batches, cpu on the MLP only) or `full`.
 * @param options - backends and bounds method (`--compare`).
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  const { started, skipped } = await startableBackends(options.backends ?? ['wasm', 'cpu', 'node', 'cuda']);
  for (const b of started) await runOn(b.name, b.description, preset, options);
  for (const line of skipped) console.log(`skipped ${line}`);
}
