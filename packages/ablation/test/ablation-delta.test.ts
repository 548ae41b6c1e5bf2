import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ablationDelta } from '@patchcert/ablation';
import { assertClose, throwsCode } from './helpers.js';

function binom(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

/** 1 − C(d−k, kKeep)/C(d, kKeep) with exact integers, then one division. */
function directDelta(d: number, kKeep: number, k: number): number {
  const num = binom(d - k, kKeep);
  const den = binom(d, kKeep);
  const SCALE = 10n ** 30n;
  return 1 - Number((num * SCALE) / den) / 1e30;
}

const delta = suite('ablationDelta');

delta('should equal 1 − C(d−k, kKeep)/C(d, kKeep) for every k, kKeep of small d', () => {
  for (const d of [1, 2, 5, 16, 36]) {
    for (let kKeep = 0; kKeep <= d; kKeep++) {
      for (let k = 0; k <= d; k++) assertClose(ablationDelta(d, kKeep, k), directDelta(d, kKeep, k), 1e-12, `d=${d} kKeep=${kKeep} k=${k}`);
    }
  }
});

delta('should match exact integers at MNIST size (d=784, kKeep=45), where C(784,45) ≈ 1e70', () => {
  for (const k of [1, 4, 10, 50, 700, 739, 740, 784]) assertClose(ablationDelta(784, 45, k), directDelta(784, 45, k), 1e-12, `k=${k}`);
  assertClose(ablationDelta(784, 45, 1), 45 / 784, 1e-15);
});

delta('should be 1 exactly when every kept set must meet the attacked pixels (d − k < kKeep)', () => {
  assert.is(ablationDelta(10, 4, 7), 1);
  assert.ok(ablationDelta(10, 4, 6) < 1);
});

delta('should keep relative precision for tiny Δ', () => {
  // d=1e6, kKeep=1, k=1: Δ = 1e-6 exactly.
  assertClose(ablationDelta(1_000_000, 1, 1) / 1e-6, 1, 1e-12);
});

delta('should throw INVALID_OPTION for k > d, kKeep > d or non-integers', () => {
  throwsCode(() => ablationDelta(10, 3, 11), 'INVALID_OPTION');
  throwsCode(() => ablationDelta(10, 11, 1), 'INVALID_OPTION');
  throwsCode(() => ablationDelta(10, 2.5, 1), 'INVALID_OPTION');
  throwsCode(() => ablationDelta(0, 0, 0), 'INVALID_OPTION');
});

delta.run();
