import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { buildModel, applyLayer, type SequentialModel } from '@patchcert/models';

async function logitsOn(backend: 'wasm' | 'cpu', model: SequentialModel, x: Float32Array, shape: number[]): Promise<Float32Array> {
  await initBackend(backend);
  assert.is(tf.getBackend(), backend);
  return tf.tidy(() => model.forward(tf.tensor4d(x, shape as [number, number, number, number])).dataSync() as Float32Array);
}

const model = suite('SequentialModel');

for (const arch of ['mlp', 'cnn-2layer', 'cnn-4layer', 'cnn-4layer-conv13']) {
  model(`[${arch}] should give the same NHWC logits on wasm and cpu`, async () => {
    await initBackend('wasm');
    const m = buildModel(arch, { inputShape: [14, 12, 3], numClasses: 5, seed: 21 });
    const shape = [3, 14, 12, 3];
    const x = Float32Array.from({ length: 3 * 14 * 12 * 3 }, (_, i) => ((i * 7919) % 1000) / 1000);
    const a = await logitsOn('wasm', m, x, shape);
    const b = await logitsOn('cpu', m, x, shape);
    assert.is(a.length, 15);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `logit ${i}: ${a[i]} vs ${b[i]}`);
    await initBackend('wasm');
    m.dispose();
  });
}

model('should apply normalization in predict but not in forward', async () => {
  await initBackend('wasm');
  const m = buildModel('mlp', { inputShape: [2, 2, 1], numClasses: 2, seed: 0, normalization: { mean: [0.5], std: [0.25] } });
  const d = tf.tidy(() => {
    const x = tf.fill([1, 2, 2, 1], 0.75) as tf.Tensor4D;
    const norm = tf.fill([1, 2, 2, 1], 1) as tf.Tensor4D;
    return tf.max(tf.abs(tf.sub(m.predict(x), m.forward(norm)))).dataSync()[0]!;
  });
  assert.ok(d < 1e-6);
  m.dispose();
});

model.run();

// ---

const apply = suite('applyLayer');

apply('should pad conv input explicitly as [top, bottom, left, right]', async () => {
  await initBackend('wasm');
  const out = tf.tidy(() => {
    const x = tf.ones([1, 2, 2, 1]);
    const w = { kernel: tf.variable(tf.ones([1, 1, 1, 1])), bias: tf.variable(tf.zeros([1])) };
    const y = applyLayer({ type: 'conv2d', filters: 1, kernelSize: [1, 1], strides: [1, 1], padding: [1, 0, 0, 2] }, w, x);
    const r = { shape: y.shape, sum: y.sum().dataSync()[0] };
    w.kernel.dispose();
    w.bias.dispose();
    return r;
  });
  assert.equal(out.shape, [1, 3, 4, 1]);
  assert.is(out.sum, 4);
});

apply.run();
