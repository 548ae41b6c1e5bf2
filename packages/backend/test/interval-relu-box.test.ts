// intervalReluBox (the fused PcIntervalRelu kernel and its gradient) against the composite
// relu/add/sub/mul formulation tfjs differentiates itself, on wasm and cpu, bit for bit, with the
// boundaries of the rule (μ−r = 0, μ+r = 0, r = 0, μ = 0) hit exactly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, intervalReluBox, tf, PcIntervalRelu, PcIntervalReluGrad, PatchcertError } from '@patchcert/backend';
import { runOn, seededNormal } from './helpers.js';

const BACKENDS = ['wasm', 'cpu'] as const;

/** Centers and radii with every boundary case present: random values, then exact ties. */
function boxData(n: number, seed: number): { mu: Float32Array; r: Float32Array } {
  const mu = seededNormal(n, seed);
  const r = seededNormal(n, seed + 1).map(Math.abs);
  for (let i = 0; i < n; i += 7) r[i] = Math.abs(mu[i]!); // μ − r = 0 or μ + r = 0 exactly
  for (let i = 3; i < n; i += 11) r[i] = 0; // a point
  for (let i = 5; i < n; i += 13) mu[i] = 0; // centered on the kink
  mu[1] = 0;
  r[1] = 0;
  return { mu, r };
}

function composite(mu: tf.Tensor, r: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const l = tf.relu(tf.sub(mu, r));
  const u = tf.relu(tf.add(mu, r));
  return [tf.mul(tf.add(u, l), 0.5), tf.mul(tf.sub(u, l), 0.5)];
}

function assertSame(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.is(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < expected.length; i++) {
    // Bit-identical numbers (0 and −0 count as equal).
    if (actual[i] !== expected[i]) assert.unreachable(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

// ---

const forward = suite('intervalReluBox');

for (const backend of BACKENDS) {
  for (const shape of [[1], [5, 37], [3, 4, 4, 17]] as number[][]) {
    forward(`[${backend} ${shape.join('x')}] should equal the composite rule exactly, boundaries included`, async () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const { mu, r } = boxData(n, 11 + n);
      const [fm, fr] = await runOn(backend, () => {
        const out = intervalReluBox(tf.tensor(mu, shape), tf.tensor(r, shape));
        return [out.mu, out.r];
      });
      const [cm, cr] = await runOn(backend, () => composite(tf.tensor(mu, shape), tf.tensor(r, shape)));
      assertSame(fm!, cm!, 'mu');
      assertSame(fr!, cr!, 'r');
    });
  }

  forward(`[${backend}] should run the fused kernel, not the composite`, async () => {
    await initBackend(backend);
    assert.ok(tf.getKernel(PcIntervalRelu, tf.getBackend()) !== undefined, 'PcIntervalRelu registered');
    assert.ok(tf.getKernel(PcIntervalReluGrad, tf.getBackend()) !== undefined, 'PcIntervalReluGrad registered');
    const prof = await tf.profile(() => {
      const out = intervalReluBox(tf.tensor1d([-1, 0.5]), tf.tensor1d([0.5, 1]));
      return [out.mu, out.r];
    });
    assert.equal(prof.kernelNames.filter((k) => k.startsWith('Pc')), [PcIntervalRelu]);
    assert.not.ok(prof.kernelNames.includes('Relu'), 'no stock Relu');
  });

  forward(`[${backend}] should give the documented example`, async () => {
    const [m, s] = await runOn(backend, () => {
      const out = intervalReluBox(tf.tensor1d([-1, 0.5, 2]), tf.tensor1d([0.5, 1, 1]));
      return [out.mu, out.r];
    });
    assertSame(m!, Float32Array.from([0, 0.75, 2]), 'mu');
    assertSame(s!, Float32Array.from([0, 0.75, 1]), 'r');
  });

  forward(`[${backend}] should throw INVALID_ARGUMENT when the kernel gets int32`, async () => {
    await initBackend(backend);
    const mu = tf.tensor1d([1, 2], 'int32');
    const r = tf.tensor1d([0, 1], 'int32');
    try {
      tf.engine().runKernel(PcIntervalRelu, { mu, r }, {});
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, PatchcertError);
      assert.is((err as PatchcertError).code, 'INVALID_ARGUMENT');
    } finally {
      tf.dispose([mu, r]);
    }
  });

  forward(`[${backend}] should throw SHAPE_MISMATCH when the kernel gets two shapes`, async () => {
    await initBackend(backend);
    const mu = tf.tensor1d([1, 2]);
    const r = tf.tensor1d([0, 1, 2]);
    try {
      tf.engine().runKernel(PcIntervalRelu, { mu, r }, {});
      assert.unreachable('should have thrown');
    } catch (err) {
      assert.instance(err, PatchcertError);
      assert.is((err as PatchcertError).code, 'SHAPE_MISMATCH');
    } finally {
      tf.dispose([mu, r]);
    }
  });
}

forward('[cpu] should fall back to the composite for broadcast radii', async () => {
  const [m, s] = await runOn('cpu', () => {
    const out = intervalReluBox(tf.tensor2d([-1, 0.5, 2, 0], [2, 2]), tf.scalar(0.5));
    return [out.mu, out.r];
  });
  assertSame(m!, Float32Array.from([0, 0.5, 2, 0.25]), 'mu');
  assertSame(s!, Float32Array.from([0, 0.5, 0.5, 0.25]), 'r');
});

forward.run();

// ---

const gradient = suite('intervalReluBox gradient');

for (const backend of BACKENDS) {
  gradient(`[${backend}] should equal tf.grads of the composite exactly, boundaries included`, async () => {
    const shape = [6, 29];
    const n = 6 * 29;
    const { mu, r } = boxData(n, 5);
    const a = seededNormal(n, 7);
    const b = seededNormal(n, 8);
    // A loss that weighs both outputs differently, so dμ' and dr' both reach the rule.
    const loss = (rule: (m: tf.Tensor, s: tf.Tensor) => [tf.Tensor, tf.Tensor]) => (m: tf.Tensor, s: tf.Tensor) => {
      const [om, or] = rule(m, s);
      return tf.add(tf.sum(tf.mul(om, tf.tensor(a, shape))), tf.sum(tf.mul(tf.square(or), tf.tensor(b, shape))));
    };
    const fused = (m: tf.Tensor, s: tf.Tensor): [tf.Tensor, tf.Tensor] => {
      const out = intervalReluBox(m, s);
      return [out.mu, out.r];
    };
    const [fgm, fgr] = await runOn(backend, () => tf.grads(loss(fused))([tf.tensor(mu, shape), tf.tensor(r, shape)]));
    const [cgm, cgr] = await runOn(backend, () => tf.grads(loss(composite))([tf.tensor(mu, shape), tf.tensor(r, shape)]));
    assertSame(fgm!, cgm!, 'd/dmu');
    assertSame(fgr!, cgr!, 'd/dr');
    let nonzero = 0;
    for (const v of fgr!) if (v !== 0) nonzero++;
    assert.ok(nonzero > n / 4, `d/dr mostly nonzero (${nonzero} of ${n})`);
  });

  gradient(`[${backend}] should give zero gradient through a box entirely below 0`, async () => {
    const [gm, gr] = await runOn(backend, () =>
      tf.grads((m: tf.Tensor, s: tf.Tensor) => {
        const out = intervalReluBox(m, s);
        return tf.add(tf.sum(out.mu), tf.sum(out.r));
      })([tf.tensor1d([-2, -1, 1]), tf.tensor1d([1, 1, 2])]),
    );
    // Box 0 below, box 1 touches 0 (μ+r = 0: gradient 0), box 2 straddles: d/dμ = 1, d/dr = 1.
    assertSame(gm!, Float32Array.from([0, 0, 1]), 'd/dmu');
    assertSame(gr!, Float32Array.from([0, 0, 1]), 'd/dr');
  });
}

gradient.run();
