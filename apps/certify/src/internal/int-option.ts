import { InvalidArgumentError } from 'commander';

/**
 * A commander parser for an integer option ≥ `min` (digits only, so `1e3` and `2.0` are usage
 * errors).
 *
 * @param name - the flag, for the message (`--limit`).
 * @param min - the least allowed value. @defaultValue 1
 * @returns the parser; it throws commander's InvalidArgumentError (exit code 2) on bad input.
 */
export function intOption(name: string, min = 1) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}, but got '${value}'.`);
    }
    return n;
  };
}
