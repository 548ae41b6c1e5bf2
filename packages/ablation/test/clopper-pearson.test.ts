import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { betaQuantile, clopperPearsonLower, clopperPearsonUpper, logGamma, regularizedIncompleteBeta } from '@patchcert/ablation';
import { assertClose, throwsCode } from './helpers.js';

// Reference values from scipy (scipy.stats.beta.ppf, scipy.special.betainc / gammaln).

const lower = suite('clopperPearsonLower');

const LOWER: [number, number, number, number][] = [
  [90, 100, 0.05, 0.8362823767241852],
  [1, 100, 0.05, 0.0005128014162622921],
  [500, 1000, 0.001, 0.45077105398478234],
  [100, 100, 0.05, 0.9704869503929601],
  [9990, 10000, 0.001, 0.9975883080325683],
  [1000, 1000, 0.05, 0.9970087504549047],
  [1, 1, 0.05, 0.05],
  [37, 100, 0.01, 0.25990781756462855],
];

for (const [k, n, alpha, expected] of LOWER) {
  lower(`[k=${k} n=${n} α=${alpha}] should match the beta quantile of scipy`, () => {
    assertClose(clopperPearsonLower(k, n, alpha), expected, 1e-9);
  });
}

lower('should be 0 when k = 0', () => {
  assert.is(clopperPearsonLower(0, 100, 0.05), 0);
});

lower('should equal alpha^(1/n) when k = n (closed form)', () => {
  for (const n of [1, 7, 100, 5000]) assertClose(clopperPearsonLower(n, n, 0.05), Math.pow(0.05, 1 / n), 1e-12, `n=${n}`);
});

lower('should grow with k and shrink with smaller alpha', () => {
  let prev = -1;
  for (let k = 0; k <= 50; k++) {
    const v = clopperPearsonLower(k, 50, 0.05);
    assert.ok(v > prev, `k=${k}`);
    assert.ok(v <= k / 50);
    prev = v;
  }
  assert.ok(clopperPearsonLower(30, 50, 0.001) < clopperPearsonLower(30, 50, 0.05));
});

lower('should cover the true p at least 1 − α of the time (exact binomial sum)', () => {
  // P(lower(K) > p) for K ~ Bin(n, p) must be ≤ α for every p.
  const n = 40;
  const alpha = 0.1;
  const bounds = Array.from({ length: n + 1 }, (_, k) => clopperPearsonLower(k, n, alpha));
  for (const p of [0.05, 0.3, 0.5, 0.77, 0.95]) {
    let miss = 0;
    for (let k = 0; k <= n; k++) {
      if (bounds[k]! > p) miss += Math.exp(logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p));
    }
    assert.ok(miss <= alpha + 1e-12, `p=${p}: miss ${miss}`);
  }
});

lower('should throw INVALID_OPTION for k > n, n = 0 or alpha outside (0, 1)', () => {
  throwsCode(() => clopperPearsonLower(11, 10, 0.05), 'INVALID_OPTION');
  throwsCode(() => clopperPearsonLower(0, 0, 0.05), 'INVALID_OPTION');
  throwsCode(() => clopperPearsonLower(1.5, 10, 0.05), 'INVALID_OPTION');
  throwsCode(() => clopperPearsonLower(5, 10, 0), 'INVALID_OPTION');
  throwsCode(() => clopperPearsonLower(5, 10, 1), 'INVALID_OPTION');
});

lower.run();

// ---

const upper = suite('clopperPearsonUpper');

upper('should match scipy (k=90, n=100, α=0.05 → beta.ppf(0.95, 91, 10))', () => {
  assertClose(clopperPearsonUpper(90, 100, 0.05), 0.94473676231713, 1e-9);
});

upper('should be 1 when k = n and mirror the lower bound', () => {
  assert.is(clopperPearsonUpper(20, 20, 0.05), 1);
  for (const k of [0, 3, 10, 19]) assertClose(clopperPearsonUpper(k, 20, 0.05), 1 - clopperPearsonLower(20 - k, 20, 0.05), 1e-12, `k=${k}`);
});

upper('should throw INVALID_OPTION for k < 0', () => {
  throwsCode(() => clopperPearsonUpper(-1, 20, 0.05), 'INVALID_OPTION');
});

upper.run();

// ---

const quantile = suite('betaQuantile');

quantile('should invert regularizedIncompleteBeta', () => {
  for (const [a, b] of [[0.5, 0.5], [2, 3], [50, 60], [900, 101]] as [number, number][]) {
    for (const p of [1e-6, 0.01, 0.3, 0.5, 0.99]) {
      const x = betaQuantile(p, a, b);
      assertClose(regularizedIncompleteBeta(x, a, b), p, 1e-10, `a=${a} b=${b} p=${p}`);
    }
  }
});

quantile('should return the ends for p = 0 and p = 1 and throw for p outside [0, 1]', () => {
  assert.is(betaQuantile(0, 3, 4), 0);
  assert.is(betaQuantile(1, 3, 4), 1);
  throwsCode(() => betaQuantile(1.5, 3, 4), 'INVALID_ARGUMENT');
});

quantile.run();

// ---

const ibeta = suite('regularizedIncompleteBeta');

ibeta('should match scipy.special.betainc', () => {
  assertClose(regularizedIncompleteBeta(0.3, 2.5, 3.5), 0.29675298929566646, 1e-12);
  assertClose(regularizedIncompleteBeta(0.45, 50, 60), 0.4642352914306031, 1e-12);
  assertClose(regularizedIncompleteBeta(0.1, 0.5, 0.5), 0.20483276469913345, 1e-12);
});

ibeta('should equal the closed forms I_x(1, b) = 1 − (1−x)^b and I_x(a, 1) = x^a', () => {
  for (const x of [0.01, 0.2, 0.5, 0.9]) {
    assertClose(regularizedIncompleteBeta(x, 1, 7), 1 - Math.pow(1 - x, 7), 1e-13);
    assertClose(regularizedIncompleteBeta(x, 4.5, 1), Math.pow(x, 4.5), 1e-13);
  }
});

ibeta('should be 0 at x = 0, 1 at x = 1 and throw for a ≤ 0', () => {
  assert.is(regularizedIncompleteBeta(0, 2, 2), 0);
  assert.is(regularizedIncompleteBeta(1, 2, 2), 1);
  throwsCode(() => regularizedIncompleteBeta(0.5, 0, 2), 'INVALID_ARGUMENT');
  throwsCode(() => regularizedIncompleteBeta(-0.1, 1, 2), 'INVALID_ARGUMENT');
});

ibeta.run();

// ---

const lgamma = suite('logGamma');

lgamma('should match scipy.special.gammaln and log((n−1)!)', () => {
  assertClose(logGamma(0.5), 0.5723649429247, 1e-12);
  assertClose(logGamma(10), 12.801827480081469, 1e-12);
  assertClose(logGamma(1000.5), 5908.674175848678, 1e-9);
  assertClose(logGamma(0.01), 4.599479878042022, 1e-12);
  let f = 0;
  for (let n = 1; n <= 30; n++) {
    assertClose(logGamma(n), f, 1e-10 * Math.max(1, f), `n=${n}`);
    f += Math.log(n);
  }
});

lgamma('should throw INVALID_ARGUMENT for x ≤ 0', () => {
  throwsCode(() => logGamma(0), 'INVALID_ARGUMENT');
});

lgamma.run();
