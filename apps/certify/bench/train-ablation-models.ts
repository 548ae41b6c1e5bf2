// Trains the two short-budget MNIST ablation base classifiers the README's method comparison
// certifies, with the settings of packages/ablation/scripts/mnist-short-budget.ts (column bands
// s=4 and random ablation kKeep=45, `mlp`, Adam 2e-3, batch 128), and saves them for the CLI's
// --ablation-model.
//
// Usage: node --conditions=@patchcert/source --import tsx bench/train-ablation-models.ts <out-dir>
//        [--train 60000] [--epochs 2]
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@patchcert/backend';
import { loadDataset } from '@patchcert/datasets';
import { buildModel, saveModel } from '@patchcert/models';
import { trainAblationClassifier, type AblationMode } from '@patchcert/ablation';

const { values, positionals } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  allowPositionals: true,
  options: { train: { type: 'string', default: '60000' }, epochs: { type: 'string', default: '2' } },
});
const out = resolve(positionals[0] ?? 'runs/ablation');
const trainCount = Number(values.train);
const epochs = Number(values.epochs);

await initBackend('wasm');
const train = await loadDataset('mnist', { split: 'train', limit: trainCount });
const modes: Array<[string, AblationMode]> = [
  ['column-s4', { mode: 'column', bandWidth: 4 }],
  ['random-k45', { mode: 'random-ablation', kKeep: 45 }],
];
for (const [name, mode] of modes) {
  const model = buildModel('mlp', { inputShape: [28, 28, 2], classNames: train.classNames, dataset: 'mnist', seed: 0 });
  const r = await trainAblationClassifier(model, train, mode, { epochs, batchSize: 128, lr: 0.002, seed: 1 });
  const dir = join(out, name);
  await saveModel(model, dir);
  model.dispose();
  const last = r.epochs.at(-1);
  console.log(`${name}: ${trainCount} images × ${epochs} epochs in ${r.seconds.toFixed(0)} s, ablated train accuracy ${((last?.accuracy ?? 0) * 100).toFixed(1)}% → ${dir}`);
}
