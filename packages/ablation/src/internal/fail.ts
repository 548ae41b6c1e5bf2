import { check } from '@patchcert/backend';

/** Checks that `v` is an integer in [lo, hi] (INVALID_OPTION otherwise). */
export function checkInt(fn: string, thing: string, v: unknown, lo: number, hi = Number.POSITIVE_INFINITY): number {
  const range = hi === Number.POSITIVE_INFINITY ? `an integer >= ${lo}` : `an integer in [${lo}, ${hi}]`;
  check(typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi, 'INVALID_OPTION', fn, thing, range, () => String(v));
  return v as number;
}

/** Checks that `v` is a number in the open interval (lo, hi). */
export function checkOpen(fn: string, thing: string, v: unknown, lo: number, hi: number): number {
  check(typeof v === 'number' && v > lo && v < hi, 'INVALID_OPTION', fn, thing, `a number in (${lo}, ${hi})`, () => String(v));
  return v as number;
}
