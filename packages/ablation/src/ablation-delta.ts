import { checkInt } from './internal/fail.js';

/**
 * Δ(k) of random ablation (Levine & Feizi 2019): the probability that a uniformly random set of
 * `kKeep` kept pixels out of `d` contains at least one of `k` given (attacked) pixels,
 * Δ = 1 − C(d − k, kKeep) / C(d, kKeep). The ratio is the product Π_{i<kKeep} (1 − k/(d − i)),
 * summed in log space with log1p and turned back with expm1, so it neither overflows (C(784, 45)
 * is about 1e70) nor loses digits when Δ is tiny.
 *
 * @param d - pixels per image (H·W; channels of a pixel are ablated together).
 * @param kKeep - pixels kept per sample, in [0, d].
 * @param k - pixels the attacker changes, in [0, d].
 * @returns Δ in [0, 1]; exactly 1 when d − k < kKeep and 0 when k = 0 or kKeep = 0.
 * @throws PatchcertError INVALID_OPTION for arguments out of range.
 * @example
 * ablationDelta(784, 45, 1); // = 45/784
 */
export function ablationDelta(d: number, kKeep: number, k: number): number {
  const fn = 'ablationDelta';
  checkInt(fn, 'd', d, 1);
  checkInt(fn, 'kKeep', kKeep, 0, d);
  checkInt(fn, 'k', k, 0, d);
  if (k === 0 || kKeep === 0) return 0;
  if (d - k < kKeep) return 1;
  let logRatio = 0;
  for (let i = 0; i < kKeep; i++) logRatio += Math.log1p(-k / (d - i));
  return -Math.expm1(logRatio);
}
