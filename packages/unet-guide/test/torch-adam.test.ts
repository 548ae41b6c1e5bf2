import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { TorchAdam } from '@patchcert/unet-guide';
import { throwsCode } from './___helpers.js';

const adam = suite('TorchAdam');

adam.before(async () => {
  await initBackend('wasm');
});

/** PyTorch 1.x Adam on scalars, written out (reference §16). */
function reference(theta: number, grads: number[], lr: number): number {
  let m = 0;
  let v = 0;
  grads.forEach((g, i) => {
    const t = i + 1;
    m = 0.9 * m + 0.1 * g;
    v = 0.999 * v + 0.001 * g * g;
    theta -= (lr * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
  });
  return theta;
}

adam('should follow PyTorch Adam step by step', () => {
  const p = tf.variable(tf.tensor1d([1, -2, 0.5]), true);
  const opt = new TorchAdam([['p', p]], { learningRate: 0.01 });
  const gs = [[0.3, -1, 1e-4], [0.2, 2, -1e-4], [-0.5, 0.1, 0]];
  for (const g of gs) tf.tidy(() => opt.apply({ p: tf.tensor1d(g) }));
  const got = Array.from(p.dataSync());
  const want = [1, -2, 0.5].map((t0, i) => reference(t0, gs.map((g) => g[i]!), 0.01));
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `${v} vs ${want[i]}`));
  assert.is(opt.step, 3);
  opt.dispose();
  p.dispose();
});

adam('should update parameters of any shape, skipping one without a gradient (moments kept), as PyTorch', () => {
  const a = tf.variable(tf.tensor2d([[1, -2], [0.5, 3]]), true);
  const b = tf.variable(tf.tensor1d([4, -1, 2]), true);
  const opt = new TorchAdam([['a', a], ['b', b]], { learningRate: 0.01 });
  const ga = [[0.3, -1, 1e-4, 2], null, [-0.5, 0.1, 0, 1]];
  const gb = [[1, 2, 3], [-1, 0.5, 0], [0.2, 0.2, -0.2]];
  ga.forEach((g, s) => tf.tidy(() => opt.apply({ ...(g ? { a: tf.tensor2d(g, [2, 2]) } : {}), b: tf.tensor1d(gb[s]!) })));
  // a skipped step 2: its moments saw steps 1 and 3 only, bias-corrected with t = 1 and 3.
  const refSkipping = (t0: number, gs: (number | null)[]) => {
    let theta = t0;
    let m = 0;
    let v = 0;
    gs.forEach((g, i) => {
      if (g === null) return;
      const t = i + 1;
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      theta -= (0.01 * (m / (1 - 0.9 ** t))) / (Math.sqrt(v / (1 - 0.999 ** t)) + 1e-8);
    });
    return theta;
  };
  Array.from(a.dataSync()).forEach((x, i) => {
    const want = refSkipping([1, -2, 0.5, 3][i]!, ga.map((g) => (g ? g[i]! : null)));
    assert.ok(Math.abs(x - want) < 1e-6, `a[${i}] ${x} vs ${want}`);
  });
  Array.from(b.dataSync()).forEach((x, i) => {
    const want = reference([4, -1, 2][i]!, gb.map((g) => g[i]!), 0.01);
    assert.ok(Math.abs(x - want) < 1e-6, `b[${i}] ${x} vs ${want}`);
  });
  const state = opt.getState();
  assert.equal(state.m['a']!.shape, [2, 2]);
  assert.equal(state.v['b']!.shape, [3]);
  opt.dispose();
  tf.dispose([a, b]);
});

adam('should resume exactly from getState', () => {
  const mk = () => tf.variable(tf.tensor1d([1, 2]), true);
  const p1 = mk();
  const a = new TorchAdam([['p', p1]], { learningRate: 0.1 });
  tf.tidy(() => a.apply({ p: tf.tensor1d([1, -1]) }));
  const state = JSON.parse(JSON.stringify(a.getState()));
  const p2 = tf.variable(p1.clone(), true);
  const b = new TorchAdam([['p', p2]], { learningRate: 0.5 });
  b.setState(state);
  assert.is(b.learningRate, 0.1);
  tf.tidy(() => a.apply({ p: tf.tensor1d([0.5, 0.5]) }));
  tf.tidy(() => b.apply({ p: tf.tensor1d([0.5, 0.5]) }));
  assert.equal(Array.from(p2.dataSync()), Array.from(p1.dataSync()));
  [a, b].forEach((o) => o.dispose());
  tf.dispose([p1, p2]);
});

adam('should throw INVALID_OPTION for a non-positive learning rate', () => {
  const p = tf.variable(tf.zeros([1]), true);
  throwsCode(() => new TorchAdam([['p', p]], { learningRate: 0 }), 'INVALID_OPTION');
  p.dispose();
});

adam.run();
