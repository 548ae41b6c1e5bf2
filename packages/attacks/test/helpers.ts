// Shared test fixtures: a small MNIST subset and a quickly trained classifier.
import { tf } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';
import { loadDataset, datasetTensors } from '@patchcert/datasets';

export { throwsCode } from '@patchcert/backend/testing';

/** The first `count` MNIST images `[n,28,28,1]` in [0,1] of a split and their labels. */
export async function mnist(split: 'train' | 'test', count: number): Promise<{ x: tf.Tensor4D; y: Int32Array }> {
  const ds = await loadDataset('mnist', { split, limit: count, cache: false });
  const { x, y } = datasetTensors(ds);
  const labels = Int32Array.from(y.dataSync());
  y.dispose();
  return { x, y: labels };
}

/** Trains a model with plain cross-entropy (Adam) on `x, y`; a few seconds for an MLP. */
export function trainModel(model: SequentialModel, x: tf.Tensor4D, y: Int32Array, epochs: number, batch = 100, lr = 1e-3): void {
  const opt = tf.train.adam(lr);
  const n = x.shape[0];
  const yT = tf.tensor1d(y, 'int32');
  for (let e = 0; e < epochs; e++) {
    for (let s = 0; s + batch <= n; s += batch) {
      tf.tidy(() => {
        const xb = tf.slice(x, [s, 0, 0, 0], [batch, -1, -1, -1]);
        const yb = tf.oneHot(tf.slice(yT, [s], [batch]), 10);
        opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.predict(xb)) as tf.Scalar, false, model.trainableVariables());
      });
    }
  }
  yT.dispose();
  opt.dispose();
}

/** A small MNIST MLP (784-`hidden`-10) trained on the first `trainCount` training images. */
export async function trainedMlp(trainCount = 2000, epochs = 5, hidden = 64, seed = 1): Promise<SequentialModel> {
  const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, hidden: [hidden], seed, dataset: 'mnist' });
  const { x, y } = await mnist('train', trainCount);
  trainModel(model, x, y, epochs);
  x.dispose();
  return model;
}

/** Accuracy of `model` on `x, y`. */
export function accuracy(model: { predict(x: tf.Tensor4D): tf.Tensor2D }, x: tf.Tensor4D, y: Int32Array): number {
  const p = tf.tidy(() => tf.argMax(model.predict(x), 1).dataSync());
  let c = 0;
  p.forEach((v, i) => (c += v === y[i] ? 1 : 0));
  return c / y.length;
}
