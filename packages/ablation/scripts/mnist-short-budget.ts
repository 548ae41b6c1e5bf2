// Short-budget MNIST figures for the README: trains a column-smoothing and a random-ablation
// base classifier for a few minutes in all, then certifies test images with both methods.
//
//   node --conditions=@patchcert/source --import tsx scripts/mnist-short-budget.ts
//
// Sizes through env: ABL_TRAIN (train images, default 60000), ABL_EPOCHS (2), ABL_TEST (500),
// ABL_N (random-ablation estimation samples, 500), ABL_ARCH (mlp), ABL_METHODS (column,random).
import { initBackend, tf } from '@patchcert/backend';
import { datasetTensors, loadDataset } from '@patchcert/datasets';
import { buildModel } from '@patchcert/models';
import { certifyDerandomizedColumns, certifyRandomAblation, trainAblationClassifier } from '@patchcert/ablation';

const num = (name: string, def: number): number => Number(process.env[name] ?? def);
const trainCount = num('ABL_TRAIN', 60000);
const epochs = num('ABL_EPOCHS', 2);
const testCount = num('ABL_TEST', 500);
const nEst = num('ABL_N', 500);
const arch = process.env['ABL_ARCH'] ?? 'mlp';
const methods = (process.env['ABL_METHODS'] ?? 'column,random').split(',');
const pct = (a: ArrayLike<number>): string => ((100 * Array.from(a).reduce((s, v) => s + v, 0)) / a.length).toFixed(1) + '%';

const info = await initBackend('wasm');
console.log(`backend ${info.tfjsBackend} simd=${info.simd} threads=${info.threads}; ${arch}, ${trainCount} train images × ${epochs} epochs, ${testCount} test images`);
const train = await loadDataset('mnist', { split: 'train', limit: trainCount });
const test = await loadDataset('mnist', { split: 'test', limit: testCount });
const { x, y } = datasetTensors(test);

if (methods.includes('column')) {
  const colModel = buildModel(arch, { inputShape: [28, 28, 2], numClasses: 10, seed: 0, dataset: 'mnist' });
  const colTrain = await trainAblationClassifier(colModel, train, { mode: 'column', bandWidth: 4 }, { epochs, batchSize: 128, lr: 0.002, seed: 1 });
  console.log(`column s=4: trained in ${colTrain.seconds.toFixed(0)} s`, colTrain.epochs);
  const col = certifyDerandomizedColumns(colModel, x, y, { bandWidth: 4, patchSizes: [2, 5] });
  console.log(
    `column s=4: clean ${pct(col.correct)}, certified 2×2 ${pct(col.certified[0]!)}, 5×5 ${pct(col.certified[1]!)}; ` +
      `${col.forwardPassesPerImage} passes/image, ${(testCount / col.seconds).toFixed(1)} images/s`,
  );
}

if (methods.includes('random')) {
  const raModel = buildModel(arch, { inputShape: [28, 28, 2], numClasses: 10, seed: 0, dataset: 'mnist' });
  const raTrain = await trainAblationClassifier(raModel, train, { mode: 'random-ablation', kKeep: 45 }, { epochs, batchSize: 128, lr: 0.002, seed: 1 });
  console.log(`random ablation kKeep=45: trained in ${raTrain.seconds.toFixed(0)} s`, raTrain.epochs);
  const ra = certifyRandomAblation(raModel, x, y, { kKeep: 45, k: [1, 4, 10], n0: 50, n: nEst, alpha: 0.05, seed: 2 });
  const kMax = Array.from(ra.maxCertifiedK).filter((k) => k >= 0).sort((a, b) => a - b);
  console.log(
    `random ablation kKeep=45: clean ${pct(ra.correct)}, certified k=1 ${pct(ra.certified[0]!)}, k=4 ${pct(ra.certified[1]!)}, k=10 ${pct(ra.certified[2]!)}; ` +
      `median certified k (non-abstaining) ${kMax[Math.floor(kMax.length / 2)] ?? -1}; ` +
      `${ra.forwardPassesPerImage} passes/image, ${(testCount / ra.seconds).toFixed(2)} images/s`,
  );
}
tf.dispose([x, y]);
