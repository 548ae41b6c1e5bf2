import { tf, Rng } from '@patchcert/backend';
import { SequentialModel, type LayerSpec } from '@patchcert/models';

export { assertClose, throwsCode, randomImages, randomLabels } from '@patchcert/backend/testing';

/** A model from a layer list with seeded uniform weights (scale ~1.5/√fan_in), small biases. */
export function customModel(layers: LayerSpec[], inputShape: [number, number, number], seed: number, classes = 10): SequentialModel {
  const rng = new Rng(seed);
  const weights: { kernel: tf.Tensor; bias: tf.Tensor }[] = [];
  let shape: number[] = [...inputShape];
  for (const l of layers) {
    if (l.type === 'dense') {
      const fan = shape[0]!;
      weights.push({ kernel: randTensor(rng, [fan, l.units], 1.5 / Math.sqrt(fan)), bias: randTensor(rng, [l.units], 0.1) });
      shape = [l.units];
    } else if (l.type === 'conv2d') {
      const fan = l.kernelSize[0] * l.kernelSize[1] * shape[2]!;
      weights.push({ kernel: randTensor(rng, [l.kernelSize[0], l.kernelSize[1], shape[2]!, l.filters], 1.5 / Math.sqrt(fan)), bias: randTensor(rng, [l.filters], 0.1) });
      const [pt, pb, pl, pr] = l.padding;
      shape = [Math.floor((shape[0]! + pt + pb - l.kernelSize[0]) / l.strides[0]) + 1, Math.floor((shape[1]! + pl + pr - l.kernelSize[1]) / l.strides[1]) + 1, l.filters];
    } else if (l.type === 'flatten') {
      shape = [shape.reduce((a, b) => a * b, 1)];
    }
  }
  const model = new SequentialModel(layers, weights, {
    dataset: 'test', inputShape, classNames: Array.from({ length: classes }, (_, i) => String(i)),
    normalization: { mean: new Array<number>(inputShape[2]).fill(0), std: new Array<number>(inputShape[2]).fill(1) }, architecture: 'custom',
  });
  tf.dispose(weights.flatMap((w) => [w.kernel, w.bias]));
  return model;
}

function randTensor(rng: Rng, shape: number[], scale: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = (rng.next() * 2 - 1) * scale;
  return tf.tensor(d, shape);
}

export const conv = (filters: number, k: number, s: number, p: number): LayerSpec => ({ type: 'conv2d', filters, kernelSize: [k, k], strides: [s, s], padding: [p, p, p, p] });
export const dense = (units: number): LayerSpec => ({ type: 'dense', units });
export const relu: LayerSpec = { type: 'relu' };
export const flatten: LayerSpec = { type: 'flatten' };
