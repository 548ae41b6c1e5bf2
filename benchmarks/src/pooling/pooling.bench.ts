// pooling/pooling: bound pooling (pool2, pool4, pool2-2) next to all-patch, for the MNIST MLP and
// 4-layer CNN at 2×2 on wasm: one certificate-training step (bounds, backward, Adam) and one
// certification pass, plus how much looser the pooled worst margins are.
import { Bench } from 'tinybench';
import { initBackend, describeBackend, tf, Rng } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { loadDataset, datasetTensors } from '@patchcert/datasets';
import { certify, squarePatch, type MarginStrategy, type MarginStrategyContext } from '@patchcert/bounds';
import { Adam, allPatches, certificateLoss } from '@patchcert/trainers';
import { pooledCertify, pooledPatches } from '@patchcert/pooling';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import { recordBench, recordSection } from '../internal/results.js';

type Arch = 'mlp' | 'cnn-4layer';

/** Pool settings per architecture: the MLP has one hidden layer, so no second pooling (pool2-2). */
const SETTINGS: Record<Arch, readonly string[]> = { mlp: ['all', 'pool2', 'pool4'], 'cnn-4layer': ['all', 'pool2', 'pool4', 'pool2-2'] };

export async function run(preset: BenchPreset): Promise<void> {
  await initBackend('wasm');
  // All-patch keeps every location's bounds on the gradient tape, so training batches stay small
  // (as in trainers/strategies); every setting uses the same batch so steps compare directly.
  const trainBatch: Record<Arch, number> = preset === 'quick' ? { mlp: 16, 'cnn-4layer': 4 } : { mlp: 64, 'cnn-4layer': 8 };
  const certImages: Record<Arch, number> = preset === 'quick' ? { mlp: 32, 'cnn-4layer': 8 } : { mlp: 128, 'cnn-4layer': 32 };
  const threat = squarePatch(2);
  const ds = await loadDataset('mnist', { split: 'test', limit: 128 });
  const bench = new Bench(benchOptions(preset, `pooling/pooling ${describeBackend()}`));
  const looseness: Record<string, Record<string, string | number>> = {};

  for (const arch of ['mlp', 'cnn-4layer'] as const) {
    for (const setting of SETTINGS[arch]) {
      const strategy = (): MarginStrategy => (setting === 'all' ? allPatches(threat) : pooledPatches({ pool: setting, threat }));
      let train: { model: SequentialModel; adam: Adam; x: tf.Tensor4D; y: tf.Tensor1D; ctx: MarginStrategyContext; s: MarginStrategy } | undefined;
      const b = trainBatch[arch];
      bench.add(`${setting} ${arch} train step ${b}x28x28x1 p2x2`, () => {
        const t = train!;
        const { value, grads } = tf.variableGrads(() => certificateLoss(t.s.margins(t.ctx), t.y), t.model.trainableVariables());
        t.adam.step(grads, 1e-4);
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
      }, {
        beforeAll: () => {
          const model = buildModel(arch, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
          const { x, y } = datasetTensors(ds, Int32Array.from({ length: b }, (_, i) => i));
          train = { model, adam: new Adam(model.trainableVariables()), x, y, ctx: { model, images: x, labels: y, eps: 1, rng: new Rng(1), training: true }, s: strategy() };
        },
        afterAll: () => {
          train!.adam.dispose();
          train!.model.dispose();
          tf.dispose([train!.x, train!.y]);
          train = undefined;
        },
      });

      let cert: { model: SequentialModel; x: tf.Tensor4D; y: tf.Tensor1D } | undefined;
      const n = certImages[arch];
      bench.add(`${setting} ${arch} certify ${n}x28x28x1 p2x2`, () => {
        const c = cert!;
        const r = setting === 'all' ? certify(c.model, c.x, c.y, threat) : pooledCertify(c.model, c.x, c.y, threat, { pool: setting });
        void r.worstMargin;
      }, {
        beforeAll: () => {
          const model = buildModel(arch, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
          cert = { model, ...datasetTensors(ds, Int32Array.from({ length: n }, (_, i) => i)) };
        },
        afterAll: () => {
          const c = cert!;
          // Looseness: the pooled worst margin against the exact one, same images.
          if (setting !== 'all') {
            const exact = certify(c.model, c.x, c.y, threat).worstMargin;
            const pooled = pooledCertify(c.model, c.x, c.y, threat, { pool: setting }).worstMargin;
            let gap = 0;
            for (let i = 0; i < n; i++) gap += exact[i]! - pooled[i]!;
            looseness[`${setting} ${arch}`] = { 'mean exact − pooled worst margin': (gap / n).toFixed(3), 'mean exact worst margin': (exact.reduce((a, v) => a + v, 0) / n).toFixed(3) };
          }
          c.model.dispose();
          tf.dispose([c.x, c.y]);
          cert = undefined;
        },
      });
    }
  }
  await bench.run();
  console.log(`\n${bench.name}`);
  console.table(bench.table());
  recordBench(bench);

  // Per architecture: images/s and speed-up over all-patch for training and certification.
  const rows: Record<string, Record<string, string>> = {};
  const median = (name: string): number => {
    const l = bench.getTask(name)?.result?.latency;
    return l ? (l.p50 ?? l.mean) : Number.NaN;
  };
  for (const arch of ['mlp', 'cnn-4layer'] as const) {
    const b = trainBatch[arch];
    const n = certImages[arch];
    const allTrain = median(`all ${arch} train step ${b}x28x28x1 p2x2`);
    const allCert = median(`all ${arch} certify ${n}x28x28x1 p2x2`);
    for (const setting of SETTINGS[arch]) {
      const tr = median(`${setting} ${arch} train step ${b}x28x28x1 p2x2`);
      const ce = median(`${setting} ${arch} certify ${n}x28x28x1 p2x2`);
      rows[`${setting} ${arch}`] = {
        'train images/s': ((b / tr) * 1000).toFixed(1),
        'train vs all': `${(allTrain / tr).toFixed(2)}×`,
        'certify images/s': ((n / ce) * 1000).toFixed(1),
        'certify vs all': `${(allCert / ce).toFixed(2)}×`,
        ...(looseness[`${setting} ${arch}`] ?? {}),
      };
    }
  }
  console.table(rows);
  const columns = [...new Set(Object.values(rows).flatMap((r) => Object.keys(r)))];
  recordSection({
    title: `pooled vs all-patch, MNIST 2×2, ${describeBackend()}`,
    columns: ['setting', ...columns],
    rows: Object.entries(rows).map(([k, v]) => [k, ...columns.map((c) => v[c] ?? '')]),
    notes: ['Random-init models (seed 1), MNIST test images; pooled certification uses the fast pooled plans, all-patch uses bounds\' fast path; looseness = mean over images of exact − pooled worst margin (≥ 0).'],
  });
}
