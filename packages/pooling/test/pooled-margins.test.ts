import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { locationMargins, worstMargins, squarePatch, rectanglePatch, type PatchThreat } from '@patchcert/bounds';
import { pooledLocationMargins, pooledWorstMargins, pooledGrid, parsePoolSpec } from '@patchcert/pooling';
import { customModel, randomImages, randomLabels, assertClose, throwsCode, conv, dense, relu, flatten } from './_helpers.js';

await initBackend('wasm');

/** Fast vs naive pooled: the same float32 terms summed in a different order (as bounds' own fast-vs-naive tolerance). */
const RTOL = 1e-5;

const models: [string, () => SequentialModel, [number, number, number]][] = [
  ['mlp', () => customModel([flatten, dense(12), relu, dense(10), relu, dense(5)], [8, 7, 2], 3, 5), [8, 7, 2]],
  ['conv s1/s2', () => customModel([conv(3, 3, 1, 1), relu, conv(4, 4, 2, 1), relu, conv(3, 3, 1, 1), relu, flatten, dense(7), relu, dense(5)], [9, 8, 1], 4, 5), [9, 8, 1]],
  ['conv asymmetric', () => customModel([
    { type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: [0, 2, 1, 0] }, relu,
    { type: 'conv2d', filters: 2, kernelSize: [2, 3], strides: [1, 2], padding: [1, 0, 0, 1] }, relu, flatten, dense(6), relu, dense(4)], [8, 9, 3], 5, 4), [8, 9, 3]],
];
const specs = ['pool2', 'pool4', 'pool2-2', 'pool3'] as const;

const pm = suite('pooledLocationMargins');

for (const [name, make, shape] of models) {
  for (const spec of specs) {
    for (const threat of [squarePatch(2), rectanglePatch(2, 3)]) {
      pm(`[${name} ${spec} ${threat.name}] should equal the naive pooled path and bound every member location`, () => {
        const rng = new Rng(shape[0] * 7 + spec.length);
        const model = make();
        const pool = parsePoolSpec(spec, model);
        const x = randomImages(rng, 3, shape);
        const y = randomLabels(rng, 3, model.numClasses);
        for (const eps of [1, 0.3]) {
          const fast = pooledLocationMargins(model, x, y, threat, { pool, eps });
          const naive = pooledLocationMargins(model, x, y, threat, { pool, eps, method: 'naive' });
          const g = pooledGrid(threat, shape[0], shape[1], pool);
          assert.equal(fast.shape, [3, g.rows * g.cols, model.numClasses]);
          assertClose(fast.dataSync(), naive.dataSync(), RTOL, `${name} ${spec} eps=${eps}`);
          containsMembers(model, x, y, threat, eps, fast.arraySync() as number[][][], g);
          tf.dispose([fast, naive]);
        }
        model.dispose();
        tf.dispose(x);
      });
    }
  }
}

/** Every member location's exact margins are ≥ its block's pooled margins (corner and partial edge blocks included). */
function containsMembers(model: SequentialModel, x: tf.Tensor4D, y: Int32Array, threat: PatchThreat, eps: number, pooled: number[][][], g: ReturnType<typeof pooledGrid>): void {
  const exact = locationMargins(model, x, y, threat, { eps }).arraySync() as number[][][];
  const [gh, gw] = g.locationGrid;
  let checked = 0;
  for (let b = 0; b < exact.length; b++) {
    for (let l = 0; l < gh * gw; l++) {
      const block = Math.floor(Math.floor(l / gw) / g.span) * g.cols + Math.floor((l % gw) / g.span);
      for (let j = 0; j < model.numClasses; j++) {
        const p = pooled[b]![block]![j]!;
        const e = exact[b]![l]![j]!;
        if (!(p <= e + 1e-5 * Math.max(1, Math.abs(e)))) assert.unreachable(`image ${b} location ${l} (block ${block}) class ${j}: pooled ${p} > exact ${e}`);
        checked++;
      }
    }
  }
  assert.is(checked, exact.length * gh * gw * model.numClasses);
}

for (const pool of [[1, 2], [1, 1, 1, 1, 1, 1, 2], [1, 1, 1, 1, 1, 1, 1, 2], [3, 1, 1, 1, 2]]) {
  pm(`[conv s1/s2 pool [${pool}]] should equal the naive pooled path when pooling after a relu, the flatten or a dense layer`, () => {
    const rng = new Rng(pool.length);
    const model = models[1]![1]();
    const x = randomImages(rng, 2, [9, 8, 1]);
    const y = randomLabels(rng, 2, 5);
    const fast = pooledLocationMargins(model, x, y, squarePatch(2), { pool, eps: 1 });
    const naive = pooledLocationMargins(model, x, y, squarePatch(2), { pool, eps: 1, method: 'naive' });
    assertClose(fast.dataSync(), naive.dataSync(), RTOL, `pool [${pool}]`);
    const g = pooledGrid(squarePatch(2), 9, 8, pool);
    containsMembers(model, x, y, squarePatch(2), 1, fast.arraySync() as number[][][], g);
    model.dispose();
    tf.dispose([x, fast, naive]);
  });
}

pm('[mlp pool4] should be looser than all-patch somewhere and never tighter', () => {
  const rng = new Rng(2);
  const model = models[0]![1]();
  const x = randomImages(rng, 2, [8, 7, 2]);
  const y = randomLabels(rng, 2, 5);
  const pooled = pooledWorstMargins(model, x, y, squarePatch(2), { pool: parsePoolSpec('pool4', model), eps: 1 }).dataSync();
  const exact = tf.min(locationMargins(model, x, y, squarePatch(2), { eps: 1 }), 1).dataSync();
  let looser = 0;
  for (let i = 0; i < exact.length; i++) {
    assert.ok(pooled[i]! <= exact[i]! + 1e-5, `entry ${i}: ${pooled[i]} > ${exact[i]}`);
    if (pooled[i]! < exact[i]! - 1e-4) looser++;
  }
  assert.ok(looser > 0, 'pooling should lose something on a random model');
  model.dispose();
});

pm('should not leak tensors', () => {
  const rng = new Rng(3);
  const model = models[1]![1]();
  const x = randomImages(rng, 2, [9, 8, 1]);
  const before = tf.memory().numTensors;
  const m = pooledLocationMargins(model, x, [0, 1], squarePatch(2), { pool: [2, 1, 2], eps: 1, chunk: 40 });
  m.dispose();
  assert.is(tf.memory().numTensors, before);
  model.dispose();
});

pm('should throw INVALID_OPTION for a bad pool list, pooling after the last layer, or fixed locations', () => {
  const model = models[0]![1]();
  const x = tf.zeros([1, 8, 7, 2]) as tf.Tensor4D;
  throwsCode(() => pooledLocationMargins(model, x, [0], squarePatch(2), { pool: [0], eps: 1 }), 'INVALID_OPTION');
  throwsCode(() => pooledLocationMargins(model, x, [0], squarePatch(2), { pool: [1, 1, 1, 1, 1, 2], eps: 1 }), 'INVALID_OPTION');
  throwsCode(() => pooledLocationMargins(model, x, [0], squarePatch(2, { at: [[0, 0]] }), { pool: [2], eps: 1 }), 'INVALID_OPTION');
  model.dispose();
});

pm.run();

// ---

const pw = suite('pooledWorstMargins');

pw('[chunked] should equal the min over blocks of pooledLocationMargins for any chunk size', () => {
  const rng = new Rng(4);
  const model = models[1]![1]();
  const x = randomImages(rng, 2, [9, 8, 1]);
  const y = randomLabels(rng, 2, 5);
  const all = tf.min(pooledLocationMargins(model, x, y, squarePatch(2), { pool: [2, 1, 2], eps: 1 }), 1).dataSync();
  for (const chunk of [1, 30, 1000]) assertClose(pooledWorstMargins(model, x, y, squarePatch(2), { pool: [2, 1, 2], eps: 1, chunk }).dataSync(), all, 1e-6, `chunk ${chunk}`);
  model.dispose();
});

for (const [name, make, shape] of models) {
  pw(`[${name} pool2-2] should have gradients equal to the naive pooled path's`, () => {
    const rng = new Rng(5);
    const model = make();
    const pool = parsePoolSpec('pool2-2', model);
    const x = randomImages(rng, 2, shape);
    const y = randomLabels(rng, 2, model.numClasses);
    const grads = (method: 'fast' | 'naive') => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.relu(tf.neg(pooledWorstMargins(model, x, y, squarePatch(2), { pool, eps: 0.6, method })))) as tf.Scalar, model.trainableVariables());
      const out = model.trainableVariables().map((v) => grads[v.name]!.dataSync());
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    const a = grads('fast');
    const b = grads('naive');
    let nonzero = 0;
    a.forEach((g, i) => {
      assertClose(g, b[i]!, 1e-4, `${name} variable ${i}`);
      nonzero += g.some((v) => v !== 0) ? 1 : 0;
    });
    assert.ok(nonzero >= a.length - 1, `gradients should reach the weights (${nonzero}/${a.length} nonzero)`);
    model.dispose();
  });
}

pw('[conv pool2 eps=0, fast and naive] should pass each block the clean gradient once (first maximal member only, no tie overcount)', () => {
  const rng = new Rng(6);
  const model = models[1]![1]();
  const x = randomImages(rng, 2, [9, 8, 1]);
  const y = randomLabels(rng, 2, 5);
  const grads = (pool: number[], method: 'fast' | 'naive' = 'fast') => {
    const { value, grads } = tf.variableGrads(() => tf.sum(pooledLocationMargins(model, x, y, squarePatch(2), { pool, eps: 0, method })) as tf.Scalar, model.trainableVariables());
    const out = model.trainableVariables().map((v) => grads[v.name]!.dataSync());
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  // At eps = 0 every row is the clean image: the sum over rows is (row count) × the clean margins.
  const g = pooledGrid(squarePatch(2), 9, 8, [2]);
  const blocks = g.rows * g.cols;
  const locs = g.locationGrid[0] * g.locationGrid[1];
  const none = grads([1]);
  for (const method of ['fast', 'naive'] as const) {
    const pooled = grads([2], method);
    pooled.forEach((gp, i) => assertClose(Array.from(gp, (v) => v * locs), Array.from(none[i]!, (v) => v * blocks), 1e-3, `${method} variable ${i}`));
  }
  model.dispose();
});

pw('[conv pool2 eps=0] should send the gradient to one block when blocks tie (as worstMargins does)', () => {
  const rng = new Rng(7);
  const model = models[1]![1]();
  const x = randomImages(rng, 2, [9, 8, 1]);
  const y = randomLabels(rng, 2, 5);
  const vars = model.trainableVariables();
  const gradsOf = (f: () => tf.Tensor) => {
    const { value, grads } = tf.variableGrads(() => tf.sum(f()) as tf.Scalar, vars);
    const out = vars.map((v) => grads[v.name]!.dataSync());
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  // At eps = 0 every block is the clean image, so all blocks tie: the minimum's gradient is that
  // of one location, not (blocks) times it.
  const one = gradsOf(() => worstMargins(model, x, y, squarePatch(2), { eps: 0, locations: Int32Array.from([0, 0]) }));
  for (const method of ['fast', 'naive'] as const) {
    const pooled = gradsOf(() => pooledWorstMargins(model, x, y, squarePatch(2), { pool: [2], eps: 0, method }));
    pooled.forEach((g, i) => assertClose(g, one[i]!, 1e-4, `${method} variable ${i}`));
  }
  model.dispose();
});

pw.run();
