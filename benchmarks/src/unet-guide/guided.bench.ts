// unet-guide/guided: what one certificate-training step costs with guided(10) (U-Net sampling,
// bounds for the merged locations, U-Net fit) next to random(10) and all-patch, for the MNIST
// MLP (784-255-10) and a 2×2 patch, on wasm. A guided step bounds at most 10 locations per image
// like random(10); the difference between the two rows is the U-Net's overhead.
import { Bench } from 'tinybench';
import { initBackend, describeBackend, tf, Rng } from '@patchcert/backend';
import { squarePatch, type MarginStrategy, type MarginStrategyContext, type ThreatModel } from '@patchcert/bounds';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { randomPatches, allPatches, certificateLoss, Adam } from '@patchcert/trainers';
import { guidedPatches, type GuidedPatchStrategy } from '@patchcert/unet-guide';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import { sideBySide } from '../internal/side-by-side.js';
import type { BenchRunOptions } from '../internal/options.js';
import { recordBench } from '../internal/results.js';

const THREAT = squarePatch(2);

interface StepInputs {
  model: SequentialModel;
  adam: Adam;
  x: tf.Tensor4D;
  y: tf.Tensor1D;
  rng: Rng;
}

/** One training step: margins inside variableGrads, Adam, then the strategy's afterStep. */
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

function addStepTask(bench: Bench, name: string, batch: number, makeStrategy: () => MarginStrategy, onlyUNet = false): void {
  let inp: StepInputs | undefined;
  let strategy: MarginStrategy | undefined;
  bench.add(
    name,
    () => {
      if (!onlyUNet) return step(strategy!, inp!);
      // The U-Net's share of a guided step: predict + sample, then one fit on fixed targets.
      const g = (strategy as GuidedPatchStrategy).guide!;
      const sample = g.sample(inp!.x, inp!.rng, true);
      g.fit(inp!.x, sample, new Float32Array(sample.batch * sample.width * 10));
    },
    {
      beforeAll: () => {
        const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
        inp = {
          model,
          adam: new Adam(model.trainableVariables()),
          x: tf.randomUniform([batch, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
          y: tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'),
          rng: new Rng(1),
        };
        strategy = makeStrategy();
        // Builds the U-Net (first batch) outside the timed runs.
        step(strategy, inp);
      },
      afterAll: () => {
        strategy?.dispose?.();
        tf.dispose([inp!.x, inp!.y]);
        inp!.model.dispose();
        inp = undefined;
      },
    },
  );
}

/**
 * Runs the guided step benchmarks on wasm (or `options.backends[0]`).
 * @param preset - `quick` (batch 32) or `full` (batch 128).
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  const backend = options.backends?.[0] ?? 'wasm';
  await initBackend(backend);
  // One batch size for every row, so the rows compare per step and per image.
  const batch = preset === 'quick' ? 32 : 128;
  const bench = new Bench(benchOptions(preset, `unet-guide/guided ${describeBackend()}`));
  const threat = THREAT;
  addStepTask(bench, `guided(10) step mlp ${batch}x28x28x1 2x2`, batch, () => guidedPatches({ k: 10, threat, seed: 1 }));
  addStepTask(bench, `guided(10) U-Net only (sample + fit) ${batch}x28x28x1`, batch, () => guidedPatches({ k: 10, threat, seed: 1 }), true);
  addStepTask(bench, `random(10) step mlp ${batch}x28x28x1 2x2`, batch, () => randomPatches(10, threat));
  addStepTask(bench, `all-patch (729) step mlp ${batch}x28x28x1 2x2`, batch, () => allPatches(threat));
  await bench.run();
  console.table(bench.table());
  recordBench(bench);
  console.table(sideBySide([[backend, bench]]));
}
