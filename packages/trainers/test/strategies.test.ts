import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import { squarePatch, sparsePixels, certify } from '@patchcert/bounds';
import type { MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import {
  allPatches,
  randomPatches,
  naturalTraining,
  sparseTraining,
  registerStrategy,
  unregisterStrategy,
  registeredStrategies,
  createStrategy,
  parseTrainConfig,
  crossEntropy,
  certificateLoss,
  makeThreat,
  IBP_RUN,
} from '@patchcert/trainers';
import type { GuidedPatchStrategy } from '@patchcert/unet-guide';
import { assertClose, throwsCode } from './helpers.js';

await initBackend('wasm');

const model = buildModel('mlp', { inputShape: [8, 8, 1], numClasses: 4, hidden: [16], seed: 3 });
const images = tf.tensor4d(Float32Array.from({ length: 6 * 64 }, (_, i) => ((i * 37) % 101) / 100), [6, 8, 8, 1]);
const labels = tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32');
const threat = squarePatch(2);
const ctx = (eps: number, seed = 1): MarginStrategyContext => ({ model, images, labels, eps, rng: new Rng(seed), training: true });
const read = (s: MarginStrategy, c: MarginStrategyContext): number[][] => tf.tidy(() => s.margins(c).arraySync());

const all = suite('allPatches');

all('should give 0 in the label slot and agree with certify at eps 1', () => {
  const m = read(allPatches(threat), ctx(1));
  const y = labels.arraySync();
  m.forEach((row, n) => assert.is(row[y[n]!], 0));
  const verdicts = certify(model, images, labels, threat);
  const worst = m.map((row, n) => Math.min(...row.filter((_, j) => j !== y[n])));
  assertClose(worst, verdicts.worstMargin, 1e-4);
});

all('should be the clean margins at eps 0', () => {
  const m = read(allPatches(threat), ctx(0));
  const n = read(naturalTraining(), ctx(0));
  assertClose(m.flat(), n.flat(), 1e-4);
});

all.run();

// ---

const random = suite('randomPatches');

random('should bound no lower than all patches and repeat for the same generator state', () => {
  const a = read(allPatches(threat), ctx(0.5)).flat();
  const r1 = read(randomPatches(3, threat), ctx(0.5, 7)).flat();
  const r2 = read(randomPatches(3, threat), ctx(0.5, 7)).flat();
  const r3 = read(randomPatches(3, threat), ctx(0.5, 8)).flat();
  assert.equal(r1, r2);
  assert.not.equal(r1, r3);
  r1.forEach((v, i) => assert.ok(v >= a[i]! - 1e-5, `slot ${i}: ${v} < ${a[i]}`));
});

random('should draw k locations per image from the context generator, redrawn every call', () => {
  const c = ctx(0.5, 11);
  const before = c.rng.getState();
  const s = randomPatches(4, threat);
  const first = read(s, c).flat();
  const probe = new Rng(0);
  probe.setState(before);
  for (let i = 0; i < 6 * 4; i++) probe.int(49);
  assert.equal(c.rng.getState(), probe.getState(), 'consumed exactly B*k draws');
  const second = read(s, c).flat();
  assert.not.equal(first, second);
});

random('[fast vs naive] should give the same margins through either bounds method', () => {
  const a = read(randomPatches(3, threat, { method: 'fast' }), ctx(0.7, 5)).flat();
  const b = read(randomPatches(3, threat, { method: 'naive' }), ctx(0.7, 5)).flat();
  assertClose(a, b, 1e-4);
});

random('should take the threat from the context when built without one', () => {
  const c = { ...ctx(0.5, 7), threat } as MarginStrategyContext;
  assert.equal(read(randomPatches(3), c).flat(), read(randomPatches(3, threat), ctx(0.5, 7)).flat());
});

random('should throw INVALID_OPTION for k < 1 and INVALID_ARGUMENT with no threat at all', async () => {
  await throwsCode(() => randomPatches(0, threat), 'INVALID_OPTION');
  await throwsCode(() => read(randomPatches(2), ctx(1)), 'INVALID_ARGUMENT');
});

random.run();

// ---

const natural = suite('naturalTraining');

natural('should make the certificate loss equal plain cross-entropy', () => {
  const [a, b] = tf.tidy(() => [
    certificateLoss(naturalTraining().margins(ctx(0)), labels).dataSync()[0]!,
    crossEntropy(model.predict(images), labels).dataSync()[0]!,
  ]);
  assertClose(a, b, 1e-5);
});

natural('should count train accuracy from clean margins exactly as argMax of the logits, ties included', () => {
  // Rows with ties before, at and after the label: argMax takes the first maximum.
  const logits = [
    [1, 2, 2, 0],
    [1, 2, 2, 0],
    [1, 2, 2, 0],
    [3, 3, 1, 1],
    [3, 3, 1, 1],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [-1e-30, 0, 1e30, 2],
  ];
  const y = [1, 2, 0, 0, 1, 0, 3, 2];
  const z = tf.tensor2d(logits);
  const fake = { model: { predict: () => z }, images, labels: tf.tensor1d(y, 'int32') } as unknown as MarginStrategyContext;
  for (let n = 0; n < y.length; n++) {
    const one = { ...fake, model: { predict: () => z.slice(n, 1) }, labels: tf.tensor1d([y[n]!], 'int32') } as unknown as MarginStrategyContext;
    const [fromMargins, fromArgMax] = tf.tidy(() => {
      const m = naturalTraining().margins(one);
      return [IBP_RUN.trainCorrect(one, m, true).dataSync()[0], IBP_RUN.trainCorrect(one, m, false).dataSync()[0]];
    });
    assert.is(fromMargins, fromArgMax, `row ${n}`);
  }
  const whole = tf.tidy(() => {
    const m = naturalTraining().margins(fake);
    return IBP_RUN.trainCorrect(fake, m, true).dataSync()[0];
  });
  assert.is(whole, 4); // rows 0, 3, 5 and 7
  // On the model: the same count as a forward pass.
  const [a, b] = tf.tidy(() => {
    const m = naturalTraining().margins(ctx(0));
    return [IBP_RUN.trainCorrect(ctx(0), m, true).dataSync()[0], IBP_RUN.trainCorrect(ctx(0), m, false).dataSync()[0]];
  });
  assert.is(a, b);
  tf.dispose([z, fake.labels]);
});

natural.run();

// ---

const sparse = suite('sparseTraining');

sparse('should agree with certify for a sparse threat and refuse a patch threat', async () => {
  const t = sparsePixels(2);
  const m = read(sparseTraining(t), ctx(1));
  const y = labels.arraySync();
  const worst = m.map((row, n) => Math.min(...row.filter((_, j) => j !== y[n])));
  assertClose(worst, certify(model, images, labels, t).worstMargin, 1e-4);
  await throwsCode(() => read(sparseTraining(threat), ctx(1)), 'INVALID_OPTION');
});

sparse.run();

// ---

const registry = suite('registerStrategy');

registry('should build registered strategies by config type and list them', async () => {
  const types = registeredStrategies().map((d) => d.type);
  for (const t of ['natural', 'all', 'random', 'sparse', 'guided', 'pooled']) assert.ok(types.includes(t), t);
  const config = parseTrainConfig({ dataset: 'mnist', architecture: 'mlp', threat: { type: 'patch', size: 2 }, strategy: { type: 'random', k: 5 }, epochs: 1, lr: 1e-3, schedule: { start: 0, length: 1 } });
  const s = await createStrategy(config.strategy, { threat: makeThreat(config.threat), model, config, rng: new Rng(0) });
  assert.is(s.name, 'random(5)');
});

registry('should hand the guided reference quirks of a config to the U-Net, off by default', async () => {
  const guideOf = async (extra: Record<string, unknown>) => {
    const config = parseTrainConfig({ dataset: 'mnist', architecture: 'mlp', threat: { type: 'patch', size: 2 }, strategy: { type: 'guided', k: 4, ...extra }, epochs: 1, lr: 1e-3, schedule: { start: 0, length: 1 } });
    const s = (await createStrategy(config.strategy, { threat, model, config, rng: new Rng(0) })) as GuidedPatchStrategy;
    read(s, { ...ctx(0.5), training: false }); // the U-Net is built at the first batch
    const g = s.guide!;
    const flags = [g.accumulateGradients, g.transposeCoordinates];
    s.dispose();
    return flags;
  };
  assert.equal(await guideOf({}), [false, false]);
  assert.equal(await guideOf({ accumulateGradients: true, transposeCoordinates: true }), [true, true]);
  assert.equal(await guideOf({ transposeCoordinates: true }), [false, true]);
});

registry('should let a package replace a type without touching the loop', async () => {
  const config = parseTrainConfig({ dataset: 'mnist', architecture: 'mlp', threat: { type: 'patch', size: 2 }, strategy: { type: 'pooled', neighbor: [2] }, epochs: 1, lr: 1e-3, schedule: { start: 0, length: 1 } });
  const def = { type: 'pooled' as const, description: 'test double', create: () => ({ ...naturalTraining(), name: 'pooled-double' }) };
  unregisterStrategy('pooled');
  registerStrategy(def);
  registerStrategy(def); // the same object again is a no-op
  const s = await createStrategy(config.strategy, { threat, model, config, rng: new Rng(0) });
  assert.is(s.name, 'pooled-double');
  await throwsCode(() => registerStrategy({ ...def }), 'INVALID_OPTION');
  await throwsCode(() => unregisterStrategy('nope'), 'INVALID_OPTION');
});

registry.run();
