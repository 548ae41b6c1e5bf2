import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { initBackend, tf, PatchcertError } from '@patchcert/backend';
import {
  buildModel,
  saveModel,
  loadModel,
  fileSystem,
  fileSystemRouter,
  registerFileSystemRouter,
  FileSystemHandler,
  type SequentialModel,
} from '@patchcert/models';

let root = '';

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

async function roundTrip(model: SequentialModel, name: string): Promise<number> {
  const dir = join(root, name);
  await saveModel(model, dir);
  const k = await tf.loadLayersModel(pathToFileURL(join(dir, 'model.json')).href);
  const x = tf.randomUniform([4, ...model.inputShape], 0, 1, 'float32', 7) as tf.Tensor4D;
  const y0 = model.forward(x);
  const y1 = k.predict(x) as tf.Tensor;
  assert.equal(y1.shape, y0.shape);
  const d = maxAbsDiff(y0, y1);
  tf.dispose([x, y0, y1]);
  k.dispose();
  return d;
}

const router = suite('fileSystemRouter');

router.before(async () => {
  await initBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'patchcert-fsio-'));
});

router('should answer file:// URLs and nothing else', () => {
  const h = fileSystemRouter('file:///tmp/some/model.json');
  assert.instance(h, FileSystemHandler);
  assert.is(h!.dir, '/tmp/some');
  assert.is(fileSystemRouter('file:///tmp/dir')!.modelJsonPath, '/tmp/dir/model.json');
  assert.is(fileSystemRouter('https://example.com/model.json'), null);
  assert.is(fileSystemRouter('indexeddb://m'), null);
});

router('[mlp] should let tf.loadLayersModel read a saved model with the same logits', async () => {
  const m = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  assert.ok((await roundTrip(m, 'mlp')) < 1e-5);
  m.dispose();
});

router('[padded cnn-4layer-conv13] should let tf.loadLayersModel read a saved model with the same logits', async () => {
  const m = buildModel('cnn-4layer-conv13', { inputShape: [16, 16, 3], numClasses: 10, seed: 2 });
  assert.ok((await roundTrip(m, 'conv13')) < 1e-5);
  m.dispose();
});

router('[cnn-2layer stride 2] should let tf.loadLayersModel read a saved model with the same logits', async () => {
  const m = buildModel('cnn-2layer', { inputShape: [13, 11, 2], numClasses: 4, seed: 3 });
  assert.ok((await roundTrip(m, 'cnn2')) < 1e-5);
  m.dispose();
});

router('should let LayersModel.save write a directory loadModel reads', async () => {
  const k = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [3, 3, 1] }), tf.layers.dense({ units: 2 })] });
  const dir = join(root, 'keras');
  const result = await k.save(pathToFileURL(dir).href);
  assert.ok(result.modelArtifactsInfo.weightDataBytes === (9 * 2 + 2) * 4);
  assert.equal((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
  const m = await loadModel(dir);
  assert.is(m.parameterCount(), 20);
  m.dispose();
  k.dispose();
});

router('should surface FILE_NOT_FOUND through tf.loadLayersModel', async () => {
  try {
    await tf.loadLayersModel(pathToFileURL(join(root, 'nope', 'model.json')).href);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, 'FILE_NOT_FOUND');
    assert.match((e as Error).message, /nope\/model\.json/);
  }
});

router.after(async () => {
  await rm(root, { recursive: true, force: true });
});

router.run();

// ---

const register = suite('registerFileSystemRouter');

register('should register once: one handler per file:// URL however often it is called', () => {
  assert.is(registerFileSystemRouter(), false);
  assert.is(registerFileSystemRouter(), false);
  assert.is(tf.io.getLoadHandlers('file:///x/model.json').length, 1);
  assert.is(tf.io.getSaveHandlers('file:///x').length, 1);
});

register.run();

// ---

const fs = suite('fileSystem');

fs('should make a handler for a path or file:// URL', () => {
  assert.is(fileSystem('/a/b').modelJsonPath, '/a/b/model.json');
  assert.is(fileSystem('file:///a/b/m.json').dir, '/a/b');
  assert.is(fileSystem('/a/b%20c').dir, '/a/b%20c');
  assert.is(fileSystem('file:///a/b%20c').dir, '/a/b c');
});

fs.run();

// ---

const handler = suite('FileSystemHandler');

handler('should name weights after a non-default model.json and load them back', async () => {
  await initBackend('wasm');
  const dir = await mkdtemp(join(tmpdir(), 'patchcert-fsh-'));
  const m = buildModel('mlp', { inputShape: [3, 3, 1], numClasses: 2, hidden: [4], seed: 5 });
  const info = await saveModel(m, join(dir, 'best.json'));
  assert.is(info.weights, join(dir, 'best.weights.bin'));
  assert.equal((await readdir(dir)).sort(), ['best.json', 'best.weights.bin']);
  const artifacts = await new FileSystemHandler(join(dir, 'best.json')).load();
  assert.is(artifacts.format, 'layers-model');
  assert.is((artifacts.weightData as ArrayBuffer).byteLength, m.parameterCount() * 4);
  assert.is((artifacts.userDefinedMetadata as any).patchcert.architecture, 'mlp');
  m.dispose();
  await rm(dir, { recursive: true, force: true });
});

handler.run();
