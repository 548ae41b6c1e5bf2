import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@patchcert/backend';
import { buildModel, saveModel } from '@patchcert/models';
import { loadDataset, batches } from '@patchcert/datasets';

/**
 * Trains a tiny MNIST MLP (784-32-10) naturally for a few seconds with plain tfjs and saves it to
 * a fresh temporary directory, so CLI tests certify a model that classifies well and is certified
 * on some images but not all.
 */
export async function trainTinyMnistModel(): Promise<string> {
  await initBackend('wasm');
  const ds = await loadDataset('mnist', { split: 'train', limit: 3000 });
  const model = buildModel('mlp', { inputShape: ds.shape, classNames: ds.classNames, dataset: 'mnist', hidden: [32], seed: 1 });
  const optimizer = tf.train.adam(3e-3);
  for (let epoch = 0; epoch < 3; epoch++) {
    for (const { x, y } of batches(ds, { batchSize: 100 })) {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 10), model.predict(x)) as tf.Scalar, false, model.trainableVariables());
      x.dispose();
      y.dispose();
    }
  }
  optimizer.dispose();
  const dir = join(mkdtempSync(join(tmpdir(), 'certify-model-')), 'mlp');
  await saveModel(model, dir);
  model.dispose();
  return dir;
}
