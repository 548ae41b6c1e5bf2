import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { ResNetUNet } from '@patchcert/unet-guide';
import { initTrainingBackend, throwsCode } from './___helpers.js';

const unetSuite = suite('ResNetUNet');

unetSuite.before(async () => {
  await initBackend('wasm');
});

unetSuite('[mnist bw=6] should have 39,040 trainable parameters', () => {
  const unet = new ResNetUNet({ inputShape: [28, 28, 1], classes: 10, seed: 1 });
  assert.is(unet.baseWidth, 6);
  assert.is(unet.parameterCount(), 39040);
  unet.dispose();
});

unetSuite('[cifar bw=10] should have 108,540 trainable parameters', () => {
  const unet = new ResNetUNet({ inputShape: [32, 32, 3], classes: 10, seed: 1 });
  assert.is(unet.baseWidth, 10);
  assert.is(unet.parameterCount(), 108540);
  unet.dispose();
});

unetSuite('[mnist 2×2] should output per-pixel maps and crop them to the 27×27 location grid', () => {
  const unet = new ResNetUNet({ inputShape: [28, 28, 1], seed: 2 });
  const x = tf.randomUniform([3, 28, 28, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const full = unet.forward(x);
  const cropped = unet.predictMargins(x, 2);
  assert.is(tf.memory().numTensors, before + 2, 'forward and predictMargins leak no tensors');
  assert.equal(full.shape, [3, 28, 28, 10]);
  assert.equal(cropped.shape, [3, 27, 27, 10]);
  // The crop keeps the top-left corners: cell (r, c) is the prediction at pixel (r, c).
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.slice(full, [0, 0, 0, 0], [-1, 27, 27, -1]), cropped))).dataSync()[0]!);
  assert.ok(diff < 1e-6);
  assert.ok(tf.tidy(() => Number.isFinite(tf.sum(cropped).dataSync()[0]!)));
  tf.dispose([full, cropped]);
  x.dispose();
  unet.dispose();
});

unetSuite('[cifar 5×5] should crop to 28×28 for 32×32 images', () => {
  const unet = new ResNetUNet({ inputShape: [32, 32, 3], seed: 2 });
  const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const y = unet.predictMargins(x, 5);
  assert.equal(y.shape, [2, 28, 28, 10]);
  tf.dispose([x, y]);
  unet.dispose();
});

unetSuite('should give the same weights for the same seed and different ones for another', () => {
  const a = new ResNetUNet({ inputShape: [28, 28, 1], seed: 5 });
  const b = new ResNetUNet({ inputShape: [28, 28, 1], seed: 5 });
  const c = new ResNetUNet({ inputShape: [28, 28, 1], seed: 6 });
  const wa = a.trainableVariables()[0]!.dataSync();
  assert.equal(Array.from(b.trainableVariables()[0]!.dataSync()), Array.from(wa));
  assert.not.equal(Array.from(c.trainableVariables()[0]!.dataSync()), Array.from(wa));
  // PyTorch-default bound 1/√fan_in: fan_in of the first conv is 3·3·1 = 9.
  assert.ok(Array.from(wa).every((v) => Math.abs(v) <= 1 / 3));
  [a, b, c].forEach((u) => u.dispose());
});

unetSuite('should update BatchNorm running statistics in train mode only, with unbiased variance', () => {
  const unet = new ResNetUNet({ inputShape: [28, 28, 1], seed: 7 });
  const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 8) as tf.Tensor4D;
  const stats = () => Object.fromEntries(unet.namedVariables().filter(([n]) => n.startsWith('layer0.bn.running')).map(([n, v]) => [n, Array.from(v.dataSync())]));
  const s0 = stats();
  tf.dispose(unet.forward(x, { training: false }));
  assert.equal(stats(), s0);
  tf.dispose(unet.forward(x, { training: true, updateRunningStats: false }));
  assert.equal(stats(), s0);
  // Expected update from the layer0 conv output computed independently.
  const conv = unet.namedVariables().find(([n]) => n === 'layer0.conv.weight')![1];
  const bias = unet.namedVariables().find(([n]) => n === 'layer0.conv.bias')![1];
  const z = tf.add(tf.conv2d(x, conv as tf.Tensor4D, 2, 3), bias);
  const { mean, variance } = tf.moments(z, [0, 1, 2]);
  const n = 4 * 14 * 14;
  const expMean = Array.from(mean.dataSync()).map((m) => 0.1 * m);
  const expVar = Array.from(variance.dataSync()).map((v) => 0.9 + 0.1 * v * (n / (n - 1)));
  tf.dispose(unet.forward(x, { training: true }));
  const s1 = stats();
  s1['layer0.bn.running_mean']!.forEach((v, i) => assert.ok(Math.abs(v - expMean[i]!) < 1e-5));
  s1['layer0.bn.running_var']!.forEach((v, i) => assert.ok(Math.abs(v - expVar[i]!) < 1e-4));
  tf.dispose([x, z, mean, variance]);
  unet.dispose();
});

unetSuite('should restore identical predictions from getState into a new instance', () => {
  const a = new ResNetUNet({ inputShape: [28, 28, 1], seed: 9 });
  const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 10) as tf.Tensor4D;
  tf.dispose(a.forward(x, { training: true }));
  const state = JSON.parse(JSON.stringify(a.getState())) as Record<string, unknown>;
  const b = new ResNetUNet({ inputShape: [28, 28, 1], seed: 99 });
  b.setState(state);
  const pa = a.forward(x).dataSync();
  const pb = b.forward(x).dataSync();
  assert.equal(Array.from(pb), Array.from(pa));
  tf.dispose(x);
  a.dispose();
  b.dispose();
});

unetSuite('should throw SHAPE_MISMATCH for images of another size and INVALID_OPTION for bad options', () => {
  const unet = new ResNetUNet({ inputShape: [28, 28, 1] });
  const x = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
  throwsCode(() => unet.forward(x), 'SHAPE_MISMATCH');
  throwsCode(() => new ResNetUNet({ inputShape: [28, 0, 1] }), 'INVALID_OPTION');
  throwsCode(() => new ResNetUNet({ inputShape: [28, 28, 1], baseWidth: 2.5 }), 'INVALID_OPTION');
  throwsCode(() => unet.predictMargins(tf.zeros([1, 28, 28, 1]) as tf.Tensor4D, 29), 'INVALID_ARGUMENT');
  x.dispose();
  unet.dispose();
});

unetSuite('should train: gradients reach every trainable variable', async () => {
  await initTrainingBackend();
  const unet = new ResNetUNet({ inputShape: [28, 28, 1], seed: 11 });
  const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 12) as tf.Tensor4D;
  const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(unet.forward(x, { training: true }))) as tf.Scalar, unet.trainableVariables());
  assert.is(Object.keys(grads).length, unet.trainableVariables().length);
  const nonzero = Object.values(grads).filter((g) => tf.max(tf.abs(g)).dataSync()[0]! > 0).length;
  assert.ok(nonzero >= unet.trainableVariables().length - 2, `${nonzero} of ${unet.trainableVariables().length} gradients non-zero`);
  tf.dispose([value, x, ...Object.values(grads)]);
  unet.dispose();
  await initBackend('wasm');
});

unetSuite('[forwardAt] should equal the rows of the full map at the chosen pixels, corners included, with the same gradients', async () => {
  await initTrainingBackend();
  for (const [shape, patch] of [[[28, 28, 1], 2], [[32, 32, 3], 5]] as Array<[[number, number, number], number]>) {
    const [h, w, c] = shape;
    const unet = new ResNetUNet({ inputShape: shape, seed: 21 });
    const b = 3;
    const x = tf.randomUniform([b, h, w, c], 0, 1, 'float32', 22) as tf.Tensor4D;
    // Corners and edges of every image's feasible grid, plus a few inside; a repeat too.
    const rows = h - patch + 1;
    const cols = w - patch + 1;
    const cells: Array<[number, number, number]> = [];
    for (let n = 0; n < b; n++) {
      for (const [r, q] of [[0, 0], [0, cols - 1], [rows - 1, 0], [rows - 1, cols - 1], [0, 7], [9, 0], [rows - 1, 4], [5, cols - 1], [11, 13]]) cells.push([n, r!, q!]);
    }
    cells.push([1, 11, 13]);
    const pixels = Int32Array.from(cells, ([n, r, q]) => (n * h + r) * w + q);
    const weights = tf.randomUniform([pixels.length, unet.classes], -1, 1, 'float32', 23);
    // The naive way: the whole map, rows gathered from it.
    const dense = () => tf.sum(tf.mul(weights, tf.gather(tf.reshape(unet.forward(x, { training: true, updateRunningStats: false }), [b * h * w, unet.classes]), tf.tensor1d(pixels, 'int32')))) as tf.Scalar;
    let seen: number[] = [];
    const sparse = () => tf.sum(tf.mul(weights, unet.forwardAt(x, patch, { training: true, updateRunningStats: false }, (cropped) => {
      seen = cropped.shape;
      return pixels;
    }))) as tf.Scalar;
    const want = tf.variableGrads(dense, unet.trainableVariables());
    const got = tf.variableGrads(sparse, unet.trainableVariables());
    assert.equal(seen, [b, rows, cols, unet.classes], 'choose sees the cropped map');
    const lw = want.value.dataSync()[0]!;
    const lg = got.value.dataSync()[0]!;
    assert.ok(Math.abs(lw - lg) <= 1e-4 * Math.max(1, Math.abs(lw)), `value ${lg} vs ${lw}`);
    let worst = 0;
    for (const v of unet.trainableVariables()) {
      const a = want.grads[v.name]!.dataSync();
      const g = got.grads[v.name]!.dataSync();
      const scale = Math.max(1e-3, ...Array.from(a, Math.abs));
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - g[i]!) / scale);
    }
    // float32 sums in another order (BatchNorm's batch-statistic gradients cancel): ~1e-4 measured; a wrong row or tap is O(1).
    assert.ok(worst < 1e-3, `largest gradient difference ${worst} (relative to each variable's largest entry)`);
    // Pixels known before the pass give the same rows without the full map.
    const direct = tf.tidy(() => Array.from(unet.forwardAt(x, patch, { training: true, updateRunningStats: false }, pixels).dataSync()));
    const viaChoose = tf.tidy(() => Array.from(unet.forwardAt(x, patch, { training: true, updateRunningStats: false }, () => pixels).dataSync()));
    assert.equal(direct, viaChoose);
    throwsCode(() => unet.forwardAt(x, patch, {}, Int32Array.of(b * h * w)), 'INVALID_ARGUMENT');
    tf.dispose([x, weights, want.value, got.value, ...Object.values(want.grads), ...Object.values(got.grads)]);
    unet.dispose();
  }
  await initBackend('wasm');
});

unetSuite('[semantics] should rely on tfjs ops that upsample with align_corners=True and max-pool with −∞ padding', () => {
  // PyTorch: interpolate([[0,1],[2,4]], size 3, bilinear, align_corners=True) and MaxPool2d(3, 2, 1).
  const up = tf.tidy(() => Array.from(tf.image.resizeBilinear(tf.tensor4d([0, 1, 2, 4], [1, 2, 2, 1]), [3, 3], true).dataSync()));
  assert.equal(up.map((v) => Math.round(v * 1000) / 1000), [0, 0.5, 1, 1, 1.75, 2.5, 2, 3, 4]);
  const pooled = tf.tidy(() => Array.from(tf.maxPool(tf.tensor4d([-5, -3, -2, -7], [1, 2, 2, 1]), [3, 3], [2, 2], 1).dataSync()));
  assert.equal(pooled, [-2]);
});

unetSuite('should give the same train-mode loss and gradients on wasm as on cpu', async () => {
  const run = async (backend: string) => {
    await initBackend(backend);
    const unet = new ResNetUNet({ inputShape: [28, 28, 1], seed: 13 });
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 14) as tf.Tensor4D;
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(unet.predictMargins(x, 2, { training: true }))) as tf.Scalar, unet.trainableVariables());
    const out = { loss: value.dataSync()[0]!, grads: unet.trainableVariables().map((v) => Array.from(grads[v.name]!.dataSync())) };
    tf.dispose([value, x, ...Object.values(grads)]);
    unet.dispose();
    return out;
  };
  const cpu = await run('cpu');
  const wasm = await run('wasm');
  assert.ok(Math.abs(cpu.loss - wasm.loss) < 1e-5 * Math.max(1, cpu.loss));
  let worst = 0;
  cpu.grads.forEach((g, i) => g.forEach((v, j) => { worst = Math.max(worst, Math.abs(v - wasm.grads[i]![j]!) / (1e-3 + Math.abs(v))); }));
  assert.ok(worst < 1e-2, `largest relative gradient difference ${worst}`);
});

unetSuite.run();
