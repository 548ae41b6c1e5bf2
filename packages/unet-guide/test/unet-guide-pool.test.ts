import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tf, Rng } from '@patchcert/backend';
import { UNetGuide, UNetGuidePool, type GuidedSample, type UNetGuideState } from '@patchcert/unet-guide';
import { initTrainingBackend, throwsCode } from './___helpers.js';

// The pool must compute what one UNetGuide computes: the same draws from the same generator,
// and after fits on the same margins the same weights (up to float summation order), whatever
// the split of the batch over its workers, including a batch smaller than the pool.
const poolSuite = suite('UNetGuidePool');

poolSuite.before(async () => {
  await initTrainingBackend();
});

const CLASSES = 10;
// 20×20 leaves layer3 2×2 maps: with 1×1 maps a batch of two would give BatchNorm two values
// per channel, where its input gradient is exactly 0 and Adam would step on rounding noise.
const SIDE = 20;
const OPTIONS = { inputShape: [SIDE, SIDE, 1] as [number, number, number], patch: 2, baseWidth: 4, seed: 3, learningRate: 1e-2 };

function images(batch: number, seed: number): tf.Tensor4D {
  return tf.randomUniform([batch, SIDE, SIDE, 1], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Margins that depend on the drawn location and image, 0 at the label. */
function margins(s: GuidedSample): Float32Array {
  const out = new Float32Array(s.batch * s.width * CLASSES);
  for (let n = 0; n < s.batch; n++) {
    for (let q = 0; q < s.width; q++) {
      const loc = s.locations[n * s.width + q]!;
      for (let j = 0; j < CLASSES; j++) out[(n * s.width + q) * CLASSES + j] = j === n % CLASSES ? 0 : 0.5 + 0.1 * j - 0.01 * loc + 0.05 * n;
    }
  }
  return out;
}

function decoded(data: string): Float32Array {
  const bytes = Buffer.from(data, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** Every tensor of the state (weights, running statistics, Adam moments) by name. */
function tensors(state: UNetGuideState): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of Object.entries(state.unet)) out.set(`unet ${k}`, decoded(v.data));
  for (const [k, v] of Object.entries(state.adam.m)) out.set(`adam.m ${k}`, decoded(v.data));
  for (const [k, v] of Object.entries(state.adam.v)) out.set(`adam.v ${k}`, decoded(v.data));
  return out;
}

/**
 * layer0.conv's bias feeds BatchNorm, which subtracts its mean: its true gradient is 0, so Adam
 * steps on rounding noise there (and layer0.bn's running mean takes those steps in).
 */
const NOISE_ONLY = /layer0\.conv\.bias|layer0\.bn\.running_mean/;

/** The largest difference between two states' tensors, relative to each tensor's largest entry. */
function maxRelDiff(a: UNetGuideState, b: UNetGuideState): number {
  let worst = 0;
  const tb = tensors(b);
  const ta = tensors(a);
  assert.equal([...ta.keys()].sort(), [...tb.keys()].sort());
  for (const [name, va] of ta) {
    if (NOISE_ONLY.test(name)) continue;
    const vb = tb.get(name)!;
    assert.is(va.length, vb.length, name);
    let scale = 1e-12;
    for (const v of vb) scale = Math.max(scale, Math.abs(v));
    let w = 0;
    for (let i = 0; i < va.length; i++) w = Math.max(w, Math.abs(va[i]! - vb[i]!) / scale);
    worst = Math.max(worst, w);
  }
  return worst;
}

function sameState(a: UNetGuideState, b: UNetGuideState, what: string): void {
  const diff = maxRelDiff(a, b);
  assert.ok(diff < 5e-3, `${what}: weights, running statistics and Adam moments differ by ${diff} of their scale`);
}

const CASES = [
  { workers: 2, batch: 7, accumulateGradients: false },
  // A batch smaller than the pool: the idle worker still takes every Adam step.
  { workers: 3, batch: 2, accumulateGradients: false },
  // Reference quirk Q1: gradients summed over an epoch, zeroed by startEpoch.
  { workers: 2, batch: 5, accumulateGradients: true },
];

for (const { workers, batch, accumulateGradients } of CASES) {
  poolSuite(`${workers} workers, batch ${batch}${accumulateGradients ? ', accumulated gradients' : ''}: the same draws, losses and state as one UNetGuide over 3 fits`, () => {
    const options = { ...OPTIONS, accumulateGradients };
    const one = new UNetGuide(options);
    const pool = new UNetGuidePool({ ...options, workers });
    const initial = one.getState();
    try {
      const rngOne = new Rng(11);
      const rngPool = new Rng(11);
      for (let step = 0; step < 3; step++) {
        if (step === 2) {
          one.startEpoch();
          pool.startEpoch();
        }
        const x = images(batch, 100 + step);
        const a = one.sampleAndFit(x, rngOne, margins);
        const b = pool.sampleAndStartFit(x, rngPool, margins);
        assert.equal(Array.from(b.locations), Array.from(a.sample.locations), `step ${step}: locations`);
        assert.equal(Array.from(b.cellCounts), Array.from(a.sample.cellCounts), `step ${step}: cell counts`);
        assert.ok(Math.abs(pool.lastLoss - a.loss) <= 1e-5 * Math.abs(a.loss), `step ${step}: loss ${pool.lastLoss} vs ${a.loss}`);
        x.dispose();
      }
      const moved = maxRelDiff(initial, one.getState());
      assert.ok(moved > 0.05, `the fits moved the weights by ${moved} of their scale`);
      sameState(pool.getState(), one.getState(), 'after 3 fits');
      assert.is(pool.getState().accumulated !== null, accumulateGradients, 'summed gradients are kept');
      const xe = images(batch, 7);
      const ea = one.sample(xe, new Rng(5), false);
      const eb = pool.sample(xe, new Rng(5));
      assert.equal(Array.from(eb.locations), Array.from(ea.locations), 'eval-mode draw (running statistics)');
      xe.dispose();
    } finally {
      one.dispose();
      pool.dispose();
    }
  });
}

poolSuite('a pool started from a saved state goes on as the guide it was saved from', () => {
  const one = new UNetGuide(OPTIONS);
  const rng = new Rng(2);
  const x = images(6, 40);
  try {
    one.sampleAndFit(x, rng, margins);
    const pool = new UNetGuidePool({ ...OPTIONS, seed: 99, workers: 2, state: one.getState() });
    try {
      sameState(pool.getState(), one.getState(), 'at the start');
      const rngPool = Rng.fromState(rng.getState());
      const a = one.sampleAndFit(x, rng, margins);
      const b = pool.sampleAndStartFit(x, rngPool, margins);
      assert.equal(Array.from(b.locations), Array.from(a.sample.locations));
      assert.ok(Math.abs(pool.lastLoss - a.loss) <= 1e-5 * Math.abs(a.loss));
      sameState(pool.getState(), one.getState(), 'after a fit');
      // setState moves every replica back (here: to the fresh seed-99 U-Net).
      const fresh = new UNetGuide({ ...OPTIONS, seed: 99 });
      pool.setState(fresh.getState());
      sameState(pool.getState(), fresh.getState(), 'after setState');
      fresh.dispose();
    } finally {
      pool.dispose();
    }
  } finally {
    one.dispose();
    x.dispose();
  }
});

poolSuite('a failure reaches the caller with its code and the pool refuses to go on', () => {
  throwsCode(() => new UNetGuidePool({ ...OPTIONS, workers: 0 }), 'INVALID_OPTION', /workers must be an integer/);
  throwsCode(() => new UNetGuidePool({ ...OPTIONS, patch: 30, workers: 2 }), 'INVALID_OPTION', /patch must fit/);
  const pool = new UNetGuidePool({ ...OPTIONS, workers: 2 });
  const x = images(4, 1);
  const wrong = tf.zeros([4, 10, 10, 1]) as tf.Tensor4D;
  try {
    throwsCode(() => pool.sample(wrong, new Rng(1)), 'SHAPE_MISMATCH', /images must be \[batch ≥ 1, 20, 20, 1\]/);
    // Refused by every worker before anything is assigned: the pool is then unusable all the same.
    throwsCode(() => pool.setState({ format: 'nope' } as unknown as UNetGuideState), 'DATA_FORMAT', /state.format must be/);
    throwsCode(() => pool.sample(x, new Rng(1)), 'INTERNAL', /cannot be used after a failure/);
  } finally {
    pool.dispose();
  }
  // The caller's bound fails while the workers wait for the margins: they stop instead of hanging.
  const pool2 = new UNetGuidePool({ ...OPTIONS, workers: 2 });
  try {
    assert.throws(() => pool2.sampleAndStartFit(x, new Rng(1), () => { throw new Error('bounds failed'); }), /bounds failed/);
    throwsCode(() => pool2.lastLoss, 'INTERNAL', /cannot be used after a failure/);
    throwsCode(() => pool2.sampleAndStartFit(x, new Rng(1), (s) => new Float32Array(s.batch * s.width * CLASSES + 1)), 'INTERNAL', /cannot be used/);
  } finally {
    pool2.dispose();
  }
  const pool3 = new UNetGuidePool({ ...OPTIONS, workers: 2 });
  try {
    throwsCode(() => pool3.sampleAndStartFit(x, new Rng(1), (s) => new Float32Array(s.batch * s.width * CLASSES + 1)), 'SHAPE_MISMATCH', /margins must be \[4, \d+, 10\]/);
  } finally {
    pool3.dispose();
    tf.dispose([x, wrong]);
  }
});

poolSuite.run();
