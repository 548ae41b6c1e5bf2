import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, writeFile, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initBackend, tf, PatchcertError } from '@patchcert/backend';
import { buildModel, saveModel, loadModel, modelToArtifacts, modelFromArtifacts, type SequentialModel } from '@patchcert/models';

let root = '';
let n = 0;
const fresh = (): string => join(root, `m${n++}`);

async function rejectsCode(p: Promise<unknown>, code: string, mention: RegExp): Promise<PatchcertError> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, code, (e as Error).message);
    assert.match((e as Error).message, /^Error in \w+/);
    assert.match((e as Error).message, mention);
    return e as PatchcertError;
  }
  throw new Error(`expected a PatchcertError ${code}`);
}

function weightsOf(m: SequentialModel): number[][] {
  return m.trainableVariables().map((v) => Array.from(v.dataSync()));
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

async function savedCnn(): Promise<{ dir: string; model: SequentialModel }> {
  const model = buildModel('cnn-2layer', { inputShape: [8, 8, 1], numClasses: 3, seed: 4 });
  const dir = fresh();
  await saveModel(model, dir);
  return { dir, model };
}

async function editJson(dir: string, edit: (j: any) => void): Promise<void> {
  const file = join(dir, 'model.json');
  const j = JSON.parse(await readFile(file, 'utf8'));
  edit(j);
  await writeFile(file, JSON.stringify(j));
}

const save = suite('saveModel');

save.before(async () => {
  await initBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'patchcert-models-'));
});

save('should write a tfjs layers-model model.json and weights.bin, and no temporary files', async () => {
  const model = buildModel('cnn-4layer', { inputShape: [10, 10, 1], numClasses: 10, dataset: 'mnist', seed: 1 });
  const dir = fresh();
  const info = await saveModel(model, dir);
  assert.equal((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
  assert.is(info.modelJson, join(dir, 'model.json'));
  assert.is(info.weightBytes, model.parameterCount() * 4);
  const j = JSON.parse(await readFile(info.modelJson, 'utf8'));
  assert.is(j.format, 'layers-model');
  assert.match(j.generatedBy, /patchcert/);
  assert.is(j.convertedBy, null);
  assert.is(j.modelTopology.class_name, 'Sequential');
  const classes = j.modelTopology.config.layers.map((l: any) => l.class_name);
  assert.equal(classes.slice(0, 4), ['InputLayer', 'ZeroPadding2D', 'Conv2D', 'Activation']);
  assert.equal(j.modelTopology.config.layers[0].config.batch_input_shape, [null, 10, 10, 1]);
  assert.equal(j.modelTopology.config.layers[1].config.padding, [[1, 1], [1, 1]]);
  assert.is(j.modelTopology.config.layers[2].config.padding, 'valid');
  assert.ok(classes.includes('Flatten') && classes.includes('Dense'));
  assert.equal(j.weightsManifest[0].paths, ['weights.bin']);
  assert.equal(j.weightsManifest[0].weights[0], { name: 'conv2d_1/kernel', shape: [3, 3, 1, 4], dtype: 'float32' });
  const meta = j.userDefinedMetadata.patchcert;
  assert.is(meta.dataset, 'mnist');
  assert.is(meta.architecture, 'cnn-4layer');
  assert.equal(meta.inputShape, [10, 10, 1]);
  assert.is(meta.classNames.length, 10);
  assert.equal(meta.normalization, { mean: [0], std: [1] });
  assert.is((await readFile(join(dir, 'weights.bin'))).byteLength, info.weightBytes);
  model.dispose();
});

save('should overwrite an existing save in place', async () => {
  const a = buildModel('mlp', { inputShape: [4, 4, 1], numClasses: 2, hidden: [3], seed: 1 });
  const b = buildModel('mlp', { inputShape: [4, 4, 1], numClasses: 2, hidden: [3], seed: 2 });
  const dir = fresh();
  await saveModel(a, dir);
  await saveModel(b, dir);
  const c = await loadModel(dir);
  assert.equal(weightsOf(c), weightsOf(b));
  assert.equal((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
  [a, b, c].forEach((m) => m.dispose());
});

save('should throw INVALID_ARGUMENT for a non-model or empty dir', async () => {
  await rejectsCode(saveModel({} as SequentialModel, fresh()), 'INVALID_ARGUMENT', /model must be a SequentialModel/);
  const m = buildModel('mlp', { inputShape: [2, 2, 1], numClasses: 2, seed: 0 });
  await rejectsCode(saveModel(m, ''), 'INVALID_ARGUMENT', /dir/);
  m.dispose();
});

save.run();

// ---

const load = suite('loadModel');

load.before(async () => {
  await initBackend('wasm');
  if (!root) root = await mkdtemp(join(tmpdir(), 'patchcert-models-'));
});

load.after(async () => {
  await rm(root, { recursive: true, force: true });
});

load('should give back identical weights, layers and metadata', async () => {
  const model = buildModel('cnn-4layer-conv11', {
    inputShape: [12, 12, 3],
    classNames: ['cat', 'dog', 'emu'],
    dataset: 'folder:/tmp/pets',
    normalization: { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] },
    seed: 9,
  });
  model.metadata.training = { threatModel: 'patch 2x2', strategy: 'random(5)', epochs: 3, seed: 9, extra: { lr: 0.001 } };
  const dir = fresh();
  await saveModel(model, dir);
  const back = await loadModel(dir);
  assert.equal(back.layers, model.layers);
  assert.equal(back.metadata, model.metadata);
  assert.equal(weightsOf(back), weightsOf(model));
  const x = tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const [y0, y1] = [model.predict(x), back.predict(x)];
  assert.is(maxAbsDiff(y0, y1), 0);
  tf.dispose([x, y0, y1]);
  model.dispose();
  back.dispose();
});

load('should accept the model.json path and a file:// URL', async () => {
  const { dir, model } = await savedCnn();
  const a = await loadModel(join(dir, 'model.json'));
  const b = await loadModel(pathToFileURL(dir).href);
  assert.equal(weightsOf(a), weightsOf(model));
  assert.equal(weightsOf(b), weightsOf(model));
  [a, b, model].forEach((m) => m.dispose());
});

load('should load a plain Keras Sequential without patchcert metadata', async () => {
  const k = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.reLU(),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, useBias: false }),
    ],
  });
  const dir = fresh();
  await k.save(pathToFileURL(dir).href);
  const m = await loadModel(dir);
  assert.equal(m.layers.map((l) => l.type), ['conv2d', 'relu', 'relu', 'flatten', 'dense']);
  assert.equal((m.layers[0] as { padding: number[] }).padding, [0, 1, 0, 1]);
  assert.equal(m.metadata.classNames, ['0', '1', '2', '3', '4']);
  assert.is(m.metadata.architecture, 'custom');
  const x = tf.randomUniform([3, 6, 6, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
  const [y0, y1] = [k.predict(x) as tf.Tensor, m.forward(x)];
  assert.ok(maxAbsDiff(y0, y1) < 1e-5);
  tf.dispose([x, y0, y1]);
  k.dispose();
  m.dispose();
});

load('should throw FILE_NOT_FOUND naming model.json when it is missing', async () => {
  const dir = fresh();
  await rejectsCode(loadModel(dir), 'FILE_NOT_FOUND', new RegExp(`${dir}/model\\.json`));
});

load('should throw FILE_NOT_FOUND naming weights.bin when it is missing', async () => {
  const { dir, model } = await savedCnn();
  await rm(join(dir, 'weights.bin'));
  await rejectsCode(loadModel(dir), 'FILE_NOT_FOUND', /weights\.bin/);
  model.dispose();
});

load('should throw MODEL_FORMAT naming the byte counts when weights.bin is too short', async () => {
  const { dir, model } = await savedCnn();
  const bytes = model.parameterCount() * 4;
  await truncate(join(dir, 'weights.bin'), bytes - 8);
  await rejectsCode(loadModel(dir), 'MODEL_FORMAT', new RegExp(`weights\\.bin must hold ${bytes} bytes.*but got ${bytes - 8} bytes`));
  model.dispose();
});

load('should throw MODEL_FORMAT for invalid JSON', async () => {
  const { dir, model } = await savedCnn();
  await writeFile(join(dir, 'model.json'), '{"format": "layers-model", ');
  await rejectsCode(loadModel(dir), 'MODEL_FORMAT', /model\.json must be valid JSON/);
  model.dispose();
});

load('should throw MODEL_FORMAT naming the weight for a wrong weight shape', async () => {
  const { dir, model } = await savedCnn();
  await editJson(dir, (j) => {
    // Same byte count, wrong layout: the size check passes and the shape check must catch it.
    j.weightsManifest[0].weights[0].shape = [4, 4, 4, 1];
  });
  await rejectsCode(loadModel(dir), 'MODEL_FORMAT', /'conv2d_1\/kernel' must have shape \[4,4,1,4\].*\[4,4,4,1\]/);
  model.dispose();
});

load('should throw MODEL_FORMAT naming an unknown layer type', async () => {
  const { dir, model } = await savedCnn();
  await editJson(dir, (j) => {
    j.modelTopology.config.layers.splice(3, 0, { class_name: 'BatchNormalization', config: { name: 'bn_1' } });
  });
  await rejectsCode(loadModel(dir), 'MODEL_FORMAT', /unknown layer type "BatchNormalization"/);
  model.dispose();
});

for (const bad of [NaN, Infinity, -Infinity]) {
  load(`[${bad}] should throw MODEL_FORMAT naming the weight and index of a non-finite value`, async () => {
    const { dir, model } = await savedCnn();
    const file = join(dir, 'weights.bin');
    const buf = await readFile(file);
    // The second weight is conv2d_1/bias (after the 4·4·1·4 = 64 kernel floats).
    buf.writeFloatLE(bad, (64 + 2) * 4);
    await writeFile(file, buf);
    await rejectsCode(loadModel(dir), 'MODEL_FORMAT', new RegExp(`'conv2d_1/bias' must hold finite values.*${bad} at flat index 2`));
    model.dispose();
  });
}

load('should throw MODEL_FORMAT when the metadata contradicts the topology', async () => {
  const { dir, model } = await savedCnn();
  await editJson(dir, (j) => {
    j.userDefinedMetadata.patchcert.classNames = ['a', 'b'];
  });
  await rejectsCode(loadModel(dir), 'MODEL_FORMAT', /classNames must be 3 strings/);
  await editJson(dir, (j) => {
    j.userDefinedMetadata.patchcert.classNames = ['a', 'b', 'c'];
    j.userDefinedMetadata.patchcert.layers[0].strides = [1, 1];
  });
  await rejectsCode(loadModel(dir), 'MODEL_FORMAT', /layers must describe the same layers/);
  model.dispose();
});

load('should not leak tensors on success or failure', async () => {
  const { dir, model } = await savedCnn();
  const before = tf.memory().numTensors;
  const m = await loadModel(dir);
  m.dispose();
  const buf = await readFile(join(dir, 'weights.bin'));
  buf.writeFloatLE(NaN, buf.byteLength - 4);
  await writeFile(join(dir, 'weights.bin'), buf);
  await rejectsCode(loadModel(dir), 'MODEL_FORMAT', /finite/);
  assert.is(tf.memory().numTensors, before);
  model.dispose();
});

load.run();

// ---

const toArt = suite('modelToArtifacts');

toArt('should round-trip through tf.io.fromMemory and modelFromArtifacts', async () => {
  const model = buildModel('mlp', { inputShape: [5, 5, 2], numClasses: 4, hidden: [7, 6], seed: 2 });
  const artifacts = modelToArtifacts(model);
  assert.equal(artifacts.weightSpecs!.map((s) => s.name), ['dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias', 'dense_3/kernel', 'dense_3/bias']);
  const back = modelFromArtifacts(artifacts);
  assert.equal(weightsOf(back), weightsOf(model));
  const k = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  const x = tf.randomUniform([2, 5, 5, 2], 0, 1, 'float32', 1) as tf.Tensor4D;
  const [y0, y1] = [model.forward(x), k.predict(x) as tf.Tensor];
  assert.ok(maxAbsDiff(y0, y1) < 1e-5);
  tf.dispose([x, y0, y1]);
  [model, back].forEach((m) => m.dispose());
  k.dispose();
});

toArt.run();

// ---

const fromArt = suite('modelFromArtifacts');

fromArt('should throw MODEL_FORMAT when a manifest weight is missing', () => {
  const model = buildModel('mlp', { inputShape: [2, 2, 1], numClasses: 2, seed: 0 });
  const artifacts = modelToArtifacts(model);
  artifacts.weightSpecs![3]!.name = 'other/bias';
  try {
    modelFromArtifacts(artifacts, { fn: 'loadModel', source: 'memory' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as PatchcertError).code, 'MODEL_FORMAT');
    assert.match((e as Error).message, /must contain 'dense_2\/bias'/);
  }
  model.dispose();
});

function expectFormatError(edit: (layers: any[]) => void, mention: RegExp): void {
  const model = buildModel('cnn-2layer', { inputShape: [8, 8, 1], numClasses: 3, seed: 0 });
  const artifacts = modelToArtifacts(model);
  delete artifacts.userDefinedMetadata;
  edit((artifacts.modelTopology as any).config.layers);
  model.dispose();
  try {
    modelFromArtifacts(artifacts).dispose();
  } catch (e) {
    assert.is((e as PatchcertError).code, 'MODEL_FORMAT', (e as Error).message);
    assert.match((e as Error).message, mention);
    return;
  }
  assert.unreachable('expected MODEL_FORMAT');
}

fromArt('should throw MODEL_FORMAT for a ZeroPadding2D not followed by a Conv2D', () => {
  expectFormatError((layers) => layers.splice(7, 0, { class_name: 'ZeroPadding2D', config: { padding: 1, name: 'zp' } }), /ZeroPadding2D must be followed by a Conv2D/);
});

fromArt('should sum consecutive ZeroPadding2D layers into the next conv', () => {
  const model = buildModel('cnn-2layer', { inputShape: [8, 8, 1], numClasses: 3, seed: 0 });
  const artifacts = modelToArtifacts(model);
  delete artifacts.userDefinedMetadata;
  (artifacts.modelTopology as any).config.layers.splice(1, 0, { class_name: 'ZeroPadding2D', config: { padding: [[0, 2], [1, 0]], name: 'zp' } });
  // conv1 now outputs 5×4 instead of 4×4, conv2 still 2×2, so every weight keeps its shape.
  const back = modelFromArtifacts(artifacts);
  assert.equal((back.layers[0] as { padding: number[] }).padding, [1, 3, 2, 1]);
  model.dispose();
  back.dispose();
});

fromArt('should throw MODEL_FORMAT for an activation other than relu', () => {
  expectFormatError((layers) => (layers[3].config.activation = 'tanh'), /activation must be 'linear' or 'relu'.*"tanh"/);
});

fromArt('should throw MODEL_FORMAT for dilated convolutions', () => {
  expectFormatError((layers) => (layers[2].config.dilation_rate = [2, 2]), /dilation_rate must be 1/);
});

fromArt('should throw MODEL_FORMAT when no input shape is declared', () => {
  expectFormatError((layers) => layers.shift(), /InputLayer or carry batch_input_shape/);
});

fromArt('should throw MODEL_FORMAT for a dense layer on unflattened input', () => {
  expectFormatError((layers) => layers.splice(layers.findIndex((l) => l.class_name === 'Flatten'), 1), /add a Flatten/);
});

fromArt('should throw MODEL_FORMAT for non-float32 weights', () => {
  const model = buildModel('mlp', { inputShape: [2, 2, 1], numClasses: 2, hidden: [2], seed: 0 });
  const artifacts = modelToArtifacts(model);
  artifacts.weightSpecs![0]!.dtype = 'int32';
  model.dispose();
  try {
    modelFromArtifacts(artifacts);
    assert.unreachable();
  } catch (e) {
    assert.is((e as PatchcertError).code, 'MODEL_FORMAT');
    assert.match((e as Error).message, /'dense_1\/kernel' must be float32/);
  }
});

fromArt('should fold fused relu activations and keep logits', () => {
  const model = buildModel('cnn-2layer', { inputShape: [8, 8, 1], numClasses: 3, seed: 0 });
  const artifacts = modelToArtifacts(model);
  const layers = (artifacts.modelTopology as any).config.layers as any[];
  // conv → relu pairs become convs with activation 'relu'.
  for (let i = layers.length - 1; i >= 0; i--) {
    if (layers[i].class_name === 'Activation') {
      layers[i - 1].config.activation = 'relu';
      layers.splice(i, 1);
    }
  }
  const back = modelFromArtifacts(artifacts);
  assert.equal(back.layers, model.layers);
  model.dispose();
  back.dispose();
});

fromArt.run();
