import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@patchcert/backend';
import { buildModel, saveModel } from '@patchcert/models';

/** Saves a freshly initialised (untrained) MNIST MLP to a temporary directory; quick to make. */
export async function saveUntrainedMnistModel(hidden: number[] = [64]): Promise<string> {
  await initBackend('wasm');
  const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, dataset: 'mnist', hidden, seed: 3 });
  const dir = join(mkdtempSync(join(tmpdir(), 'certify-model-')), 'mlp');
  await saveModel(model, dir);
  model.dispose();
  return dir;
}
