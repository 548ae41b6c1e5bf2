import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, PatchcertError, Rng } from '@patchcert/backend';
import { buildModel, ARCHITECTURES, architectureLayers, initializeWeights, toArchitectureName } from '@patchcert/models';

const MNIST = [28, 28, 1] as const;
const CIFAR = [32, 32, 3] as const;

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, code);
    assert.match((e as Error).message, /^Error in \w+/);
    return;
  }
  assert.unreachable(`expected a PatchcertError ${code}`);
}

const build = suite('buildModel');

build.before(async () => {
  await initBackend('wasm');
});

// Parameter counts of reference-spec §1 (MNIST 28×28×1, CIFAR 32×32×3).
const COUNTS: [string, readonly number[], number[] | undefined, number][] = [
  ['mlp', MNIST, undefined, 202_735],
  ['mlp', CIFAR, undefined, 786_175],
  ['mlp', MNIST, [512], 407_050],
  ['cnn-2layer', MNIST, undefined, 103_766],
  ['cnn-2layer', CIFAR, undefined, 134_614],
  ['cnn-4layer', MNIST, undefined, 170_598],
  ['cnn-4layer', CIFAR, undefined, 201_390],
  ['cnn-4layer-conv3', MNIST, undefined, 170_598],
  ['cnn-4layer-conv11', CIFAR, undefined, 202_734],
  ['cnn-4layer-conv13', CIFAR, undefined, 203_310],
  ['cnn-4layer-conv11', MNIST, undefined, 170_598 + (121 - 9) * 4],
  ['cnn-4layer-conv13', MNIST, undefined, 170_598 + (169 - 9) * 4],
  ['cnn-5layer-wide', MNIST, undefined, 407_744 - 3 * 64 * 9 + 64 * 9 + 128 * 14 * 14 * 512 + 512 + 5_130],
];

for (const [arch, shape, hidden, count] of COUNTS) {
  build(`[${arch} ${shape.join('x')}${hidden ? ` hidden=${hidden}` : ''}] should have ${count} parameters`, () => {
    const layers = architectureLayers(arch, 10, hidden);
    let n = 0;
    let s: number[] = [...shape];
    for (const l of layers) {
      if (l.type === 'dense') n += s[0]! * l.units + l.units;
      if (l.type === 'conv2d') n += l.kernelSize[0] * l.kernelSize[1] * s[2]! * l.filters + l.filters;
      s = l.type === 'dense' ? [l.units] : l.type === 'flatten' ? [s.reduce((a, b) => a * b, 1)] : l.type === 'conv2d'
        ? [Math.floor((s[0]! + l.padding[0] + l.padding[1] - l.kernelSize[0]) / l.strides[0]) + 1, Math.floor((s[1]! + l.padding[2] + l.padding[3] - l.kernelSize[1]) / l.strides[1]) + 1, l.filters]
        : s;
    }
    assert.is(n, count);
    if (arch !== 'cnn-5layer-wide') {
      const m = buildModel(arch, { inputShape: shape, numClasses: 10, hidden, seed: 1 });
      assert.is(m.parameterCount(), count);
      assert.equal(m.shapes[m.shapes.length - 1], [10]);
      m.dispose();
    }
  });
}

build('[cnn-5layer-wide 32x32x3] should build with 17,190,602 parameters and the spec shapes', () => {
  const m = buildModel('cnn-5layer-wide', { inputShape: CIFAR, numClasses: 10, dataset: 'cifar10', seed: 3 });
  assert.is(m.parameterCount(), 17_190_602);
  assert.equal(m.shapes[9], [16, 16, 128]);
  assert.equal(m.shapes[10], [32_768]);
  m.dispose();
});

build('should lay out the 4-layer CNN exactly as reference-spec §1', () => {
  const m = buildModel('cnn-4layer', { inputShape: MNIST, seed: 0 });
  assert.equal(m.layers.map((l) => l.type), ['conv2d', 'relu', 'conv2d', 'relu', 'conv2d', 'relu', 'conv2d', 'relu', 'flatten', 'dense', 'relu', 'dense', 'relu', 'dense']);
  assert.equal(m.shapes.map((s) => s.join('x')), ['28x28x4', '28x28x4', '14x14x4', '14x14x4', '14x14x8', '14x14x8', '7x7x8', '7x7x8', '392', '256', '256', '256', '256', '10']);
  assert.equal(m.layers[2], { type: 'conv2d', filters: 4, kernelSize: [4, 4], strides: [2, 2], padding: [1, 1, 1, 1] });
  m.dispose();
});

build('should keep conv13 output at the input size with padding 6', () => {
  const m = buildModel('cnn-4layer-conv13', { inputShape: CIFAR, seed: 0 });
  assert.equal(m.layers[0], { type: 'conv2d', filters: 4, kernelSize: [13, 13], strides: [1, 1], padding: [6, 6, 6, 6] });
  assert.equal(m.shapes[0], [32, 32, 4]);
  m.dispose();
});

build('should build any input shape and class count', () => {
  const m = buildModel('cnn-2layer', { inputShape: [12, 20, 2], classNames: ['a', 'b', 'c'], seed: 0 });
  assert.equal(m.shapes[3], [3, 5, 8]);
  const shape = tf.tidy(() => m.forward(tf.zeros([2, 12, 20, 2]) as tf.Tensor4D).shape);
  assert.equal(shape, [2, 3]);
  m.dispose();
});

build('should fill the metadata with defaults and given values', () => {
  const m = buildModel('mlp', { inputShape: MNIST, seed: 0 });
  assert.equal(m.metadata, { dataset: 'custom', inputShape: [28, 28, 1], classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], normalization: { mean: [0], std: [1] }, architecture: 'mlp' });
  m.dispose();
  const norm = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };
  const c = buildModel('cnn-4layer-conv3', { inputShape: CIFAR, dataset: 'cifar10', normalization: norm, numClasses: 10, seed: 0 });
  assert.is(c.metadata.architecture, 'cnn-4layer');
  assert.is(c.metadata.dataset, 'cifar10');
  assert.equal(c.metadata.normalization, norm);
  c.dispose();
});

build('should give the same weights for the same seed and different ones for another', () => {
  const a = buildModel('cnn-2layer', { inputShape: MNIST, seed: 7 });
  const b = buildModel('cnn-2layer', { inputShape: MNIST, seed: 7 });
  const c = buildModel('cnn-2layer', { inputShape: MNIST, seed: 8 });
  const va = a.trainableVariables().map((v) => Array.from(v.dataSync()));
  assert.equal(b.trainableVariables().map((v) => Array.from(v.dataSync())), va);
  assert.not.equal(Array.from(c.trainableVariables()[0]!.dataSync()), va[0]);
  [a, b, c].forEach((m) => m.dispose());
});

build('should draw every weight within ±1/√fan_in, roughly uniformly', () => {
  const m = buildModel('cnn-4layer', { inputShape: MNIST, seed: 11 });
  const fanIns = [1 * 9, 4 * 16, 4 * 9, 8 * 16, 392, 256, 256];
  const affine = m.weights.filter((w) => w !== null);
  assert.is(affine.length, fanIns.length);
  affine.forEach((w, i) => {
    const bound = 1 / Math.sqrt(fanIns[i]!);
    for (const v of [w!.kernel, w!.bias]) {
      const d = v.dataSync();
      let max = 0;
      let sum = 0;
      let sumSq = 0;
      for (const x of d) {
        max = Math.max(max, Math.abs(x));
        sum += x;
        sumSq += x * x;
      }
      assert.ok(max <= bound, `layer ${i}: max |w| ${max} > ${bound}`);
      if (d.length >= 1000) {
        // U(−b, b): mean 0, variance b²/3, and the extremes come close to ±b.
        const mean = sum / d.length;
        const variance = sumSq / d.length - mean * mean;
        assert.ok(Math.abs(mean) < 0.05 * bound, `mean ${mean}`);
        assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.05, `variance ratio ${variance / (bound * bound / 3)}`);
        assert.ok(max > 0.99 * bound);
      }
    }
  });
  m.dispose();
});

build('should throw INVALID_OPTION for an unknown architecture or bad options', () => {
  throwsCode(() => buildModel('resnet', { inputShape: MNIST }), 'INVALID_OPTION');
  throwsCode(() => buildModel('mlp', { inputShape: [28, 28] }), 'INVALID_OPTION');
  throwsCode(() => buildModel('mlp', { inputShape: MNIST, numClasses: 3, classNames: ['a', 'b'] }), 'INVALID_OPTION');
  throwsCode(() => buildModel('mlp', { inputShape: MNIST, hidden: [0] }), 'INVALID_OPTION');
  throwsCode(() => buildModel('mlp', { inputShape: CIFAR, normalization: { mean: [0, 0], std: [1, 1] } }), 'INVALID_OPTION');
});

build('should throw SHAPE_MISMATCH when the input is too small for the convolutions', () => {
  throwsCode(() => buildModel('cnn-4layer', { inputShape: [2, 2, 1] }), 'SHAPE_MISMATCH');
});

build('should not leak tensors', () => {
  const before = tf.memory().numTensors;
  const m = buildModel('cnn-4layer', { inputShape: MNIST, seed: 0 });
  assert.is(tf.memory().numTensors, before + 14);
  m.dispose();
  assert.is(tf.memory().numTensors, before);
});

build.run();

// ---

const archs = suite('ARCHITECTURES');

archs('should list the six architectures of the paper, each resolvable', () => {
  assert.equal([...ARCHITECTURES], ['mlp', 'cnn-2layer', 'cnn-4layer', 'cnn-5layer-wide', 'cnn-4layer-conv11', 'cnn-4layer-conv13']);
  for (const a of ARCHITECTURES) assert.is(toArchitectureName(a), a);
});

archs.run();

// ---

const init = suite('initializeWeights');

init('should advance a shared generator so consecutive draws differ', () => {
  const rng = new Rng(5);
  const layers = architectureLayers('mlp', 2, [3]);
  const a = initializeWeights(layers, [2, 2, 1], rng);
  const b = initializeWeights(layers, [2, 2, 1], rng);
  assert.equal(a[0]!.kernel.shape, [4, 3]);
  assert.not.equal(Array.from(a[0]!.kernel.dataSync()), Array.from(b[0]!.kernel.dataSync()));
  for (const w of [...a, ...b]) tf.dispose([w.kernel, w.bias]);
});

init.run();

// ---

const layers = suite('architectureLayers');

layers('should end every architecture with a dense layer of numClasses and no relu after it', () => {
  for (const a of ARCHITECTURES) {
    const l = architectureLayers(a, 7);
    assert.equal(l[l.length - 1], { type: 'dense', units: 7 });
    assert.is(l[l.length - 2]!.type, 'relu');
    assert.is(l.filter((x) => x.type === 'flatten').length, 1);
  }
});

layers('should use hidden widths for the dense layers of a CNN head', () => {
  const l = architectureLayers('cnn-2layer', 2, [5, 6]);
  assert.equal(l.filter((x) => x.type === 'dense').map((x) => (x as { units: number }).units), [5, 6, 2]);
});

layers.run();

// ---

const toName = suite('toArchitectureName');

toName('should map the Conv3x3 alias to cnn-4layer and reject unknown names', () => {
  assert.is(toArchitectureName('cnn-4layer-conv3'), 'cnn-4layer');
  throwsCode(() => toArchitectureName('cnn-9layer'), 'INVALID_OPTION');
});

toName.run();
