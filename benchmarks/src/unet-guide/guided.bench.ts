// unet-guide/guided: what one certificate-training step costs with guided(10) (one U-Net forward
// pass that both samples and is fitted, bounds for the merged locations, the U-Net's backward
// pass and Adam) next to random(10) and all-patch, for the MNIST MLP (784-255-10) and a 2×2
// patch, at the reference's batch of 256, on wasm, in one run. A guided step bounds at most 10
// locations per image like random(10); the difference between the two rows is the U-Net's
// overhead. Cost is also given in CPU time of this process (steadier than wall time on a shared
// machine) and as images per CPU-second; issue 7's target (≥ 1,600) is in wall images/s.
import { Bench } from 'tinybench';
import { loadavg, availableParallelism } from 'node:os';
import { initBackend, describeBackend, tf, Rng } from '@patchcert/backend';
import { squarePatch, type MarginStrategy, type MarginStrategyContext, type ThreatModel } from '@patchcert/bounds';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { randomPatches, allPatches, certificateLoss, Adam } from '@patchcert/trainers';
import { guidedPatches, type GuidedPatchStrategy } from '@patchcert/unet-guide';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import { sideBySide } from '../internal/side-by-side.js';
import type { BenchRunOptions } from '../internal/options.js';
import { fmt, medianMs, recordBench, recordSection, type Cell } from '../internal/results.js';

const THREAT = squarePatch(2);
/** The reference's batch size (reference-spec §7.4). */
const BATCH = 256;

interface StepInputs {
  model: SequentialModel;
  adam: Adam;
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  rng: Rng;
}

/** One training step: margins inside variableGrads (guided fits its U-Net there), Adam, afterStep. */
function step(s: MarginStrategy, inp: StepInputs): void {
  const ctx: MarginStrategyContext & { threat: ThreatModel } = {
    model: inp.model,
    images: inp.x,
    labels: inp.y,
    eps: 1,
    rng: inp.rng,
    training: true,
    threat: THREAT,
  };
  const { value, grads } = tf.variableGrads(() => certificateLoss(s.margins(ctx), inp.y), inp.model.trainableVariables());
  inp.adam.step(grads, 5e-4);
  s.afterStep?.(ctx);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
}

interface Row {
  label: string;
  task: string;
  cpuMs: number;
  steps: number;
}

/**
 * Steps run before the timed ones. Worker threads start cold (each compiles its own JS and wasm
 * tiers): on 2 cores the first ~5 steps of a pool take 190-215 ms where later ones take ~160,
 * and a training run takes thousands of steps, so pool rows are timed after that.
 */
const WARM_STEPS = { thread: 1, pool: 6 };

function addStepTask(bench: Bench, row: Row, makeStrategy: () => MarginStrategy, onlyUNet = false, warmSteps = WARM_STEPS.thread): void {
  let inp: StepInputs | undefined;
  let strategy: MarginStrategy | undefined;
  const run = (): void => {
    if (!onlyUNet) return step(strategy!, inp!);
    // The U-Net's share of a guided step: one forward pass, the draw and the fit on fixed targets.
    const g = (strategy as GuidedPatchStrategy).guide!;
    g.sampleAndFit(inp!.x, inp!.rng, (sample) => new Float32Array(sample.batch * sample.width * 10));
  };
  bench.add(
    row.task,
    () => {
      const c0 = process.cpuUsage();
      run();
      const c = process.cpuUsage(c0);
      row.cpuMs += (c.user + c.system) / 1000;
      row.steps++;
    },
    {
      beforeAll: () => {
        const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
        inp = {
          model,
          adam: new Adam(model.trainableVariables()),
          x: tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
          y: tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % 10), 'int32'),
          rng: new Rng(1),
        };
        strategy = makeStrategy();
        // Builds the U-Net (first batch) and warms it up outside the timed runs.
        for (let i = 0; i < warmSteps; i++) step(strategy, inp);
      },
      afterAll: () => {
        strategy?.dispose?.();
        inp!.adam.dispose();
        tf.dispose([inp!.x, inp!.y]);
        inp!.model.dispose();
        inp = undefined;
      },
    },
  );
}

/**
 * Runs the guided step benchmarks on wasm (or `options.backends[0]`), batch 256 in both presets
 * (the quick preset times fewer steps).
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  const backend = options.backends?.[0] ?? 'wasm';
  await initBackend(backend);
  const bench = new Bench(benchOptions(preset, `unet-guide/guided ${describeBackend()}`));
  const threat = THREAT;
  const rows: Row[] = [
    { label: 'guided(10)', task: `guided(10) step mlp ${BATCH}x28x28x1 2x2`, cpuMs: 0, steps: 0 },
    { label: 'guided(10), U-Net only (forward, draw, fit)', task: `guided(10) U-Net only (sample + fit) ${BATCH}x28x28x1`, cpuMs: 0, steps: 0 },
    { label: 'random(10)', task: `random(10) step mlp ${BATCH}x28x28x1 2x2`, cpuMs: 0, steps: 0 },
    { label: 'all-patch (729 locations)', task: `all-patch (729) step mlp ${BATCH}x28x28x1 2x2`, cpuMs: 0, steps: 0 },
  ];
  const load = loadavg()[0]!;
  addStepTask(bench, rows[0]!, () => guidedPatches({ k: 10, threat, seed: 1 }));
  addStepTask(bench, rows[1]!, () => guidedPatches({ k: 10, threat, seed: 1 }), true);
  addStepTask(bench, rows[2]!, () => randomPatches(10, threat));
  addStepTask(bench, rows[3]!, () => allPatches(threat));
  // The U-Net data-parallel on 2, 4, … worker threads, up to the cores there are (UNetGuidePool).
  for (let workers = 2; workers <= Math.max(2, availableParallelism()); workers *= 2) {
    const row: Row = { label: `guided(10), U-Net on ${workers} workers`, task: `guided(10) step mlp ${BATCH}x28x28x1 2x2, ${workers} workers`, cpuMs: 0, steps: 0 };
    rows.push(row);
    addStepTask(bench, row, () => guidedPatches({ k: 10, threat, seed: 1, workers }), false, WARM_STEPS.pool);
  }
  await bench.run();
  console.table(bench.table());
  recordBench(bench);
  console.table(sideBySide([[backend, bench]]));

  const cpuPerStep = (r: Row): number => r.cpuMs / r.steps;
  const random = cpuPerStep(rows[2]!);
  const table: Cell[][] = rows.map((r) => [
    r.label,
    BATCH,
    fmt(medianMs(bench, r.task)),
    fmt((BATCH * 1000) / medianMs(bench, r.task)),
    fmt(cpuPerStep(r)),
    fmt((BATCH * 1000) / cpuPerStep(r)),
    fmt(cpuPerStep(r) / random),
    r.steps,
  ]);
  recordSection({
    title: `guided(10) vs random(10) vs all-patch, MNIST MLP, 2×2 patch, batch ${BATCH}, ${describeBackend()}`,
    columns: ['strategy', 'batch', 'step ms (median, wall)', 'images / s (wall)', 'CPU ms / step (mean)', 'images per CPU-second', '× random(10) (CPU)', 'steps'],
    rows: table,
    notes: [
      `load average ${load.toFixed(1)} when the suite started, ${availableParallelism()} cores; CPU ms = this process' user + system time per step (all its threads, workers included), over every timed step.`,
      "Issue 7's target: guided(10) ≥ 1,600 images/s (the reference reaches ~830 with OpenBLAS).",
    ],
  });
  console.log(`\nunet-guide/guided, batch ${BATCH}, load ${load.toFixed(1)}: CPU ms per step and images per CPU-second`);
  console.table(Object.fromEntries(rows.map((r) => [r.label, { 'images / s (wall)': fmt((BATCH * 1000) / medianMs(bench, r.task)), 'CPU ms / step': fmt(cpuPerStep(r)), 'images / CPU-s': fmt((BATCH * 1000) / cpuPerStep(r)) }])));
}
