import { check } from '@patchcert/backend';
import { checkInt, checkOpen } from './internal/fail.js';

// Lanczos approximation (g = 7, 9 terms) of log Γ; relative error about 1e-15 for x > 0.
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/**
 * log Γ(x) for x > 0.
 *
 * @throws PatchcertError INVALID_ARGUMENT for x ≤ 0.
 */
export function logGamma(x: number): number {
  check(x > 0, 'INVALID_ARGUMENT', 'logGamma', 'x', 'a number > 0', () => String(x));
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

const TINY = 1e-300;
const CF_EPS = 1e-15;
const CF_MAX_ITER = 100_000;

/**
 * Continued fraction of I_x(a, b) (modified Lentz), valid and fast for x < (a + 1)/(a + b + 2):
 * I_x(a,b) = x^a (1−x)^b / (a B(a,b)) · 1/(1 + d1/(1 + d2/(1 + …))) with
 * d_{2m+1} = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1)), d_{2m} = m(b−m)x / ((a+2m−1)(a+2m)).
 */
function betaContinuedFraction(x: number, a: number, b: number): number {
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let f = d;
  for (let m = 1; m <= CF_MAX_ITER; m++) {
    const m2 = 2 * m;
    // even step
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    f *= d * c;
    // odd step
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + num / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    f *= delta;
    if (Math.abs(delta - 1) < CF_EPS) return f;
  }
  return f;
}

/**
 * The regularized incomplete beta function I_x(a, b) = P(X ≤ x) for X ~ Beta(a, b), by the
 * continued fraction, using the symmetry I_x(a,b) = 1 − I_{1−x}(b,a) where the fraction
 * converges slowly.
 *
 * @param x - in [0, 1].
 * @param a - > 0.
 * @param b - > 0.
 * @throws PatchcertError INVALID_ARGUMENT for arguments out of range.
 */
export function regularizedIncompleteBeta(x: number, a: number, b: number): number {
  const fn = 'regularizedIncompleteBeta';
  check(x >= 0 && x <= 1, 'INVALID_ARGUMENT', fn, 'x', 'a number in [0, 1]', () => String(x));
  check(a > 0, 'INVALID_ARGUMENT', fn, 'a', 'a number > 0', () => String(a));
  check(b > 0, 'INVALID_ARGUMENT', fn, 'b', 'a number > 0', () => String(b));
  if (x === 0) return 0;
  if (x === 1) return 1;
  const logFront = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  const front = Math.exp(logFront);
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/**
 * The p-quantile of Beta(a, b): the x with I_x(a, b) = p, by bisection on [0, 1] (I_x is
 * increasing in x), to about 1e-15.
 *
 * @throws PatchcertError INVALID_ARGUMENT for p outside [0, 1] or a, b ≤ 0.
 */
export function betaQuantile(p: number, a: number, b: number): number {
  check(p >= 0 && p <= 1, 'INVALID_ARGUMENT', 'betaQuantile', 'p', 'a number in [0, 1]', () => String(p));
  if (p === 0) return 0;
  if (p === 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200 && hi - lo > 1e-16; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedIncompleteBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The one-sided Clopper–Pearson lower confidence bound on a binomial proportion: with
 * probability at least 1 − alpha, p ≥ the returned value. It is the alpha-quantile of
 * Beta(k, n − k + 1), and 0 when k = 0. (It equals the lower end of the two-sided interval at
 * level 1 − 2·alpha, which is how Cohen et al. call statsmodels.)
 *
 * @param k - successes, an integer in [0, n].
 * @param n - trials, an integer ≥ 1.
 * @param alpha - in (0, 1).
 * @throws PatchcertError INVALID_OPTION for arguments out of range.
 * @example
 * clopperPearsonLower(90, 100, 0.05); // ≈ 0.8363
 */
export function clopperPearsonLower(k: number, n: number, alpha: number): number {
  const fn = 'clopperPearsonLower';
  checkInt(fn, 'n', n, 1);
  checkInt(fn, 'k', k, 0, n);
  checkOpen(fn, 'alpha', alpha, 0, 1);
  if (k === 0) return 0;
  return betaQuantile(alpha, k, n - k + 1);
}

/**
 * The one-sided Clopper–Pearson upper confidence bound: the (1 − alpha)-quantile of
 * Beta(k + 1, n − k), and 1 when k = n.
 *
 * @throws PatchcertError INVALID_OPTION for arguments out of range.
 */
export function clopperPearsonUpper(k: number, n: number, alpha: number): number {
  const fn = 'clopperPearsonUpper';
  checkInt(fn, 'n', n, 1);
  checkInt(fn, 'k', k, 0, n);
  checkOpen(fn, 'alpha', alpha, 0, 1);
  if (k === n) return 1;
  return betaQuantile(1 - alpha, k + 1, n - k);
}
