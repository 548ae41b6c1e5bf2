// strategies/budget: what each training strategy buys for the same wall-clock budget. The MNIST
// MLP trains on a subset with each strategy of strategies/comparison for the same number of
// CPU seconds, then `certify` checks the first test images at every 2×2 location. Cost (images
// trained per second) and benefit (certified accuracy) come out in one row.
import { describeBackend, initBackend, Rng, tf } from '@patchcert/backend';
import { certify } from '@patchcert/bounds';
import { batches, datasetTensors, loadDataset, type ImageDataset } from '@patchcert/datasets';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { Adam, naturalTraining } from '@patchcert/trainers';
import type { BenchPreset } from '../internal/preset.js';
import type { BenchRunOptions } from '../internal/options.js';
import { fmt, recordSection, type Cell } from '../internal/results.js';
import { buildStrategy, PATCH_2X2, strategyRows, trainingStep, type StepState } from '../internal/strategy-rows.js';

/** How long each strategy trains and on what. */
interface BudgetPlan {
  /** CPU seconds of training steps per strategy (certification not included). */
  seconds: number;
  /** Train on the first N training images. */
  trainLimit: number;
  /** Certify the first N test images at every location. */
  testImages: number;
  batchSize: number;
}

const PLANS: Record<BenchPreset, BudgetPlan> = {
  quick: { seconds: 20, trainLimit: 10000, testImages: 500, batchSize: 32 },
  full: { seconds: 180, trainLimit: 60000, testImages: 2000, batchSize: 32 },
};

const LR = 5e-4;

/**
 * The eps schedule in wall-clock time, so every strategy sees the same one: natural steps for the
 * first 5 % of the budget (the reference's natural warm-up epoch), eps ramping linearly 0 → 1 over
 * the next 50 % (its ramp), then eps 1.
 *
 * @param fraction - elapsed share of the budget.
 * @returns eps in [0, 1]; 0 means a natural step.
 */
export function budgetEps(fraction: number): number {
  return Math.min(1, Math.max(0, (fraction - 0.05) / 0.5));
}

interface Outcome {
  steps: number;
  images: number;
  /** CPU seconds of training. */
  trainSeconds: number;
  wallSeconds: number;
  clean: number;
  certified: number;
  certifySeconds: number;
}

/** CPU milliseconds this process has used since `start` (user + system, all its threads). */
function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * Trains `state` on `trainSet` until the plan's budget is spent. The budget is CPU time of this
 * process, not wall time: on a machine shared with other jobs the wall clock would give each
 * strategy whatever the others left over, while CPU seconds equal wall seconds on an idle machine
 * (the wasm backend runs on one thread). The eps schedule follows the same clock.
 *
 * @returns steps, images and the CPU and wall seconds the training took.
 */
export async function trainFor(plan: BudgetPlan, state: StepState, trainSet: ImageDataset): Promise<Pick<Outcome, 'steps' | 'images' | 'trainSeconds' | 'wallSeconds'>> {
  const natural = { ...state, strategy: naturalTraining() };
  const budgetMs = plan.seconds * 1000;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let steps = 0;
  let images = 0;
  let spent = 0;
  while (spent < budgetMs) {
    for (const batch of batches(trainSet, { batchSize: plan.batchSize, shuffle: true, rng: state.rng })) {
      const eps = budgetEps(spent / budgetMs);
      const s = eps > 0 ? state : natural;
      try {
        trainingStep({ ...s, x: batch.x, y: batch.y }, eps, LR);
      } finally {
        tf.dispose([batch.x, batch.y]);
      }
      steps++;
      images += batch.x.shape[0];
      spent = cpuMsSince(c0);
      if (spent >= budgetMs) break;
    }
  }
  return { steps, images, trainSeconds: spent / 1000, wallSeconds: (performance.now() - t0) / 1000 };
}

function certifyFirst(model: SequentialModel, test: ImageDataset, n: number): Pick<Outcome, 'clean' | 'certified' | 'certifySeconds'> {
  const t0 = performance.now();
  let clean = 0;
  let certified = 0;
  for (let s = 0; s < n; s += 100) {
    const count = Math.min(100, n - s);
    const { x, y } = datasetTensors(test, Int32Array.from({ length: count }, (_, i) => s + i));
    try {
      const r = certify(model, x, Int32Array.from(y.dataSync()), PATCH_2X2);
      for (let i = 0; i < count; i++) {
        clean += r.correct[i]!;
        certified += r.certified[i]!;
      }
    } finally {
      tf.dispose([x, y]);
    }
  }
  return { clean: clean / n, certified: certified / n, certifySeconds: (performance.now() - t0) / 1000 };
}

/**
 * Trains the MNIST MLP with each strategy for the preset's budget and certifies it.
 * @param preset - `quick` (20 CPU-s each on 10k images, 500 test images) or `full` (180 CPU-s each on all 60k, 2,000 test images).
 * @param options - `backends[0]` (default wasm), `method` for random / all-patch; `timingsOnly` skips the suite.
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  if (options.timingsOnly) {
    console.log('strategies/budget: skipped (trains for minutes; not a timing to compare)');
    return;
  }
  const plan = PLANS[preset];
  const info = await initBackend(options.backends?.[0] ?? 'wasm');
  const trainSet = await loadDataset('mnist', { split: 'train', limit: plan.trainLimit });
  const test = await loadDataset('mnist', { split: 'test', limit: plan.testImages });
  const rows: Cell[][] = [];
  const printed: Record<string, Record<string, string>> = {};
  for (const row of strategyRows(options.method)) {
    const model = buildModel('mlp', { inputShape: trainSet.shape, classNames: trainSet.classNames, normalization: trainSet.normalization, seed: 2019 });
    const built = await buildStrategy(row, model, 'mnist', 'mlp', LR);
    if ('unavailable' in built) {
      model.dispose();
      rows.push([row.label, 'not available', '', '', '', '', '', '', '', built.unavailable]);
      printed[row.label] = { 'certified %': 'not available' };
      continue;
    }
    const state: StepState = { model, adam: new Adam(model.trainableVariables()), strategy: built.strategy, x: undefined!, y: undefined!, rng: new Rng(2019) };
    try {
      const t = await trainFor(plan, state, trainSet);
      const c = certifyFirst(model, test, plan.testImages);
      const perSecond = t.images / t.trainSeconds;
      const cells: Cell[] = [
        row.label,
        t.steps,
        t.images,
        fmt(perSecond),
        fmt(60000 / perSecond / 60),
        (c.clean * 100).toFixed(1),
        (c.certified * 100).toFixed(1),
        fmt(t.trainSeconds),
        fmt(t.wallSeconds),
        '',
      ];
      rows.push(cells);
      printed[row.label] = { steps: String(t.steps), 'images/cpu-s': fmt(perSecond), 'clean %': String(cells[5]), 'certified %': String(cells[6]), 'cpu s': fmt(t.trainSeconds), 'wall s': fmt(t.wallSeconds), 'certify s': fmt(c.certifySeconds) };
    } finally {
      built.strategy.dispose?.();
      state.adam.dispose();
      model.dispose();
    }
  }
  const title = `MNIST MLP 2×2, ${plan.seconds} CPU-s of training per strategy on ${plan.trainLimit} images, certified on ${plan.testImages} test images, ${describeBackend(info)}`;
  console.log(`\nstrategies/budget: ${title}`);
  console.table(printed);
  recordSection({
    title,
    columns: ['strategy', 'steps', 'images trained', 'images / cpu-s', 'epoch min (60k, at that rate)', 'clean %', 'certified %', 'train cpu s', 'train wall s', 'why not'],
    rows,
    notes: [
      `batch ${plan.batchSize}, Adam lr ${LR}, seed 2019; the budget is CPU seconds of this process (the wall clock on a shared machine gives each strategy what other jobs leave over; on an idle machine the two agree, wasm runs on one thread); eps schedule on the same clock: natural steps for the first 5 % of the budget, eps 0 → 1 over the next 50 %, then 1.`,
      'certified = every margin lower bound ≥ 0 at all 729 locations (bounds.certify, fast path); the budget counts training steps only, and the last step may overrun it.',
    ],
  });
}
