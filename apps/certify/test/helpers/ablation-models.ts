import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@patchcert/backend';
import { loadDataset } from '@patchcert/datasets';
import { buildModel, saveModel } from '@patchcert/models';
import { trainAblationClassifier, type AblationMode } from '@patchcert/ablation';

/**
 * Trains a tiny MNIST ablation classifier (mlp 1568-32-10) with trainAblationClassifier on a
 * small training subset and saves it in `dir/name`; `epochs: 0` only records the mode (a quick
 * untrained model that still says how to certify it).
 */
export async function saveAblationModel(dir: string, name: string, mode: AblationMode, epochs: number, trainImages = 2000): Promise<string> {
  await initBackend('wasm');
  const train = await loadDataset('mnist', { split: 'train', limit: trainImages });
  const model = buildModel('mlp', { inputShape: [28, 28, 2], classNames: train.classNames, dataset: 'mnist', hidden: [32], seed: 5 });
  await trainAblationClassifier(model, train, mode, { epochs, batchSize: 100, lr: 0.003, seed: 1 });
  const out = join(dir, name);
  await saveModel(model, out);
  model.dispose();
  return out;
}

/** A fresh temporary directory for models. */
export function modelRoot(): string {
  return mkdtempSync(join(tmpdir(), 'certify-ablation-'));
}
