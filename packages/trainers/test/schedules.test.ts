import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { epsSchedule, epochEpsRange, isNaturalEpoch, batchEps, learningRate } from '@patchcert/trainers';
import { assertClose, throwsCode } from './helpers.js';

const MNIST = { start: 1, length: 61 };
const MNIST_SPARSE = { start: 1, length: 11 };
const CIFAR = { start: 10, length: 121 };

const sched = suite('epsSchedule');

sched('should be [0]*start ++ linspace(0, 1, length) (reference §5.3)', () => {
  const s = epsSchedule(MNIST);
  assert.is(s.length, 62);
  assert.is(s[0], 0);
  assert.is(s[1], 0);
  assertClose(s[2]!, 1 / 60, 1e-15);
  assertClose(s[31]!, 0.5, 1e-15);
  assert.is(s[61], 1);
  const c = epsSchedule(CIFAR);
  assert.is(c.length, 131);
  assert.ok(c.slice(0, 11).every((v) => v === 0));
  assertClose(c[11]!, 1 / 120, 1e-15);
  assert.is(c[130], 1);
});

sched('should throw INVALID_OPTION for a negative start or zero length', async () => {
  await throwsCode(() => epsSchedule({ start: -1, length: 5 }), 'INVALID_OPTION');
  await throwsCode(() => epsSchedule({ start: 0, length: 0 }), 'INVALID_OPTION');
});

sched.run();

// ---

const range = suite('epochEpsRange');

range('[mnist 1/61] should be natural at t=0, ramp 1/60 per epoch through t=60, full from t=61', () => {
  assert.equal(epochEpsRange(0, MNIST), { start: 0, end: 0 });
  assert.is(epochEpsRange(1, MNIST).start, 0);
  assertClose(epochEpsRange(1, MNIST).end, 1 / 60, 1e-15);
  assertClose(epochEpsRange(30, MNIST).end, 0.5, 1e-15);
  assertClose(epochEpsRange(60, MNIST).start, 59 / 60, 1e-12);
  assert.is(epochEpsRange(60, MNIST).end, 1);
  assert.equal(epochEpsRange(61, MNIST), { start: 1, end: 1 });
  assert.equal(epochEpsRange(99, MNIST), { start: 1, end: 1 });
});

range('[cifar 10/121] should be natural for t=0..9 and ramp t=10..129', () => {
  for (let t = 0; t < 10; t++) assert.is(epochEpsRange(t, CIFAR).end, 0, `t=${t}`);
  assertClose(epochEpsRange(10, CIFAR).end, 1 / 120, 1e-15);
  assert.is(epochEpsRange(129, CIFAR).end, 1);
  assertClose(epochEpsRange(129, CIFAR).start, 119 / 120, 1e-12);
  assert.equal(epochEpsRange(130, CIFAR), { start: 1, end: 1 });
});

range.run();

// ---

const natural = suite('isNaturalEpoch');

natural('should mark exactly the epochs whose end eps is 0', () => {
  assert.equal([0, 1, 2].map((t) => isNaturalEpoch(t, MNIST)), [true, false, false]);
  assert.equal([9, 10].map((t) => isNaturalEpoch(t, CIFAR)), [true, false]);
  assert.equal([0, 1].map((t) => isNaturalEpoch(t, MNIST_SPARSE)), [true, false]);
});

natural.run();

// ---

const bEps = suite('batchEps');

bEps('[mnist N=60000 bs=256] should ramp over 235 batches and end exactly at the epoch end', () => {
  // linspace(start, end, floor(60000/256)+1 = 235) over 235 batches.
  const t = 30;
  const { start, end } = epochEpsRange(t, MNIST);
  assert.is(batchEps(t, 0, 60000, 256, MNIST), start);
  assert.is(batchEps(t, 234, 60000, 256, MNIST), end);
  assertClose(batchEps(t, 117, 60000, 256, MNIST), start + (end - start) * (117 / 234), 1e-15);
});

bEps('[cifar N=50000 bs=256] should use 196 values for 196 batches', () => {
  const t = 11;
  const { start, end } = epochEpsRange(t, CIFAR);
  assert.is(batchEps(t, 195, 50000, 256, CIFAR), end);
  assertClose(batchEps(t, 1, 50000, 256, CIFAR), start + (end - start) / 195, 1e-15);
});

bEps('[divisible N] should never reach the end eps (reference quirk Q21)', () => {
  // N=512, bs=256: linspace has 3 values for 2 batches.
  const t = 1;
  const { start, end } = epochEpsRange(t, MNIST);
  assert.is(batchEps(t, 0, 512, 256, MNIST), start);
  assertClose(batchEps(t, 1, 512, 256, MNIST), (start + end) / 2, 1e-15);
});

bEps('should be 1 for every batch after the warm-up and 0 in natural epochs', () => {
  assert.is(batchEps(70, 100, 60000, 256, MNIST), 1);
  assert.is(batchEps(0, 100, 60000, 256, MNIST), 0);
});

bEps('should throw INVALID_OPTION for a batch outside the epoch', async () => {
  await throwsCode(() => batchEps(1, 235, 60000, 256, MNIST), 'INVALID_OPTION');
  await throwsCode(() => batchEps(1, -1, 60000, 256, MNIST), 'INVALID_OPTION');
});

bEps.run();

// ---

const lr = suite('learningRate');

lr('[mnist patch] should hold 5e-4 through t=71, then halve every 10 epochs (reference §5.4 table)', () => {
  const o = { lr: 5e-4, ...MNIST };
  for (const t of [0, 30, 61, 62, 71]) assert.is(learningRate(t, o), 5e-4, `t=${t}`);
  for (const t of [72, 81]) assert.is(learningRate(t, o), 2.5e-4, `t=${t}`);
  for (const t of [82, 91]) assert.is(learningRate(t, o), 1.25e-4, `t=${t}`);
  for (const t of [92, 99]) assert.is(learningRate(t, o), 6.25e-5, `t=${t}`);
});

lr('[mnist sparse] should hold through t=21 and reach 1.953e-6 at t=92..99', () => {
  const o = { lr: 5e-4, ...MNIST_SPARSE };
  assert.is(learningRate(21, o), 5e-4);
  assert.is(learningRate(22, o), 2.5e-4);
  assertClose(learningRate(92, o), 1.953125e-6, 1e-18);
  assertClose(learningRate(99, o), 1.953125e-6, 1e-18);
});

lr('[cifar] should hold 1e-3 through t=140 and be 1.5625e-5 for t=191..199', () => {
  const o = { lr: 1e-3, ...CIFAR };
  assert.is(learningRate(140, o), 1e-3);
  assert.is(learningRate(141, o), 5e-4);
  assert.is(learningRate(151, o), 2.5e-4);
  assertClose(learningRate(191, o), 1.5625e-5, 1e-18);
  assertClose(learningRate(199, o), 1.5625e-5, 1e-18);
});

lr('should follow decayStep and decayFactor', () => {
  assert.is(learningRate(12, { lr: 1, start: 0, length: 2, decayStep: 5, decayFactor: 0.1 }), 0.1 * 0.1);
});

lr.run();
