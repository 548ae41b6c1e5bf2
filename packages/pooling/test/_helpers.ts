import * as assert from 'uvu/assert';
import { tf, Rng, PatchcertError } from '@patchcert/backend';
import { SequentialModel, type LayerSpec } from '@patchcert/models';

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

/** Uniform random pixel images in [0,1], some pixels exactly 0 or 1. */
export function randomImages(rng: Rng, n: number, shape: [number, number, number]): tf.Tensor4D {
  const size = n * shape[0] * shape[1] * shape[2];
  const d = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = rng.next();
    d[i] = u < 0.1 ? 0 : u > 0.9 ? 1 : rng.next();
  }
  return tf.tensor4d(d, [n, ...shape]);
}

export function randomLabels(rng: Rng, n: number, classes = 10): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(classes));
}

/** |a − b| ≤ rtol·max(1, |b|) elementwise. */
export function assertClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, what: string): void {
  assert.is(a.length, b.length, `${what}: lengths`);
  for (let i = 0; i < a.length; i++) {
    const r = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (!(r <= rtol)) assert.unreachable(`${what}: index ${i}: ${a[i]} vs ${b[i]} (rel ${r.toExponential(2)} > ${rtol})`);
  }
}

/** Runs fn and checks it throws a PatchcertError with the code. */
export function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, code, (e as Error).message);
    assert.match((e as Error).message, /^Error in \w+/);
    return;
  }
  assert.unreachable(`expected a PatchcertError ${code}`);
}

export const conv = (filters: number, k: number, s: number, p: number): LayerSpec => ({ type: 'conv2d', filters, kernelSize: [k, k], strides: [s, s], padding: [p, p, p, p] });
export const dense = (units: number): LayerSpec => ({ type: 'dense', units });
export const relu: LayerSpec = { type: 'relu' };
export const flatten: LayerSpec = { type: 'flatten' };
