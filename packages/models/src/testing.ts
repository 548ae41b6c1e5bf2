/**
 * @packageDocumentation
 * `@patchcert/models/testing`: seeded random models for the packages' unit tests (bounds,
 * pooling), and short layer specs for readable layer lists.
 */
import { tf, Rng, type Normalization } from '@patchcert/backend';
import { SequentialModel } from './sequential-model.js';
import type { LayerSpec } from './layer-spec.js';

/**
 * A model from a layer list with seeded uniform weights: kernels in ±1.5/√fan_in, biases in ±0.1.
 *
 * @param layers - the layers (conv2d, relu, flatten, dense).
 * @param inputShape - `[height, width, channels]`.
 * @param seed - seeds the weights.
 * @param classes - outputs of the last layer, named '0', '1', …. @defaultValue 10
 * @param normalization - the model's input normalization. @defaultValue the identity
 * @returns the model (the caller disposes it).
 */
export function customModel(layers: LayerSpec[], inputShape: [number, number, number], seed: number, classes = 10, normalization?: Normalization): SequentialModel {
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
    normalization: normalization ?? { mean: new Array<number>(inputShape[2]).fill(0), std: new Array<number>(inputShape[2]).fill(1) }, architecture: 'custom',
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

/** A square conv layer: `filters` k×k kernels, stride s, padding p on every side. */
export const conv = (filters: number, k: number, s: number, p: number): LayerSpec => ({ type: 'conv2d', filters, kernelSize: [k, k], strides: [s, s], padding: [p, p, p, p] });
/** A dense layer of `units`. */
export const dense = (units: number): LayerSpec => ({ type: 'dense', units });
/** A ReLU layer. */
export const relu: LayerSpec = { type: 'relu' };
/** A flatten layer. */
export const flatten: LayerSpec = { type: 'flatten' };
