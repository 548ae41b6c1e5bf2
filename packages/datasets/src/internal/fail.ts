import { PatchcertError, type PatchcertErrorCode } from '@patchcert/backend';

/** Builds the house-style message "Error in <fn>: <thing> must be <expected>, but got <actual>." */
export function mustBe(fn: string, thing: string, expected: string, actual: string): string {
  return `Error in ${fn}: ${thing} must be ${expected}, but got ${actual}.`;
}

/** A DATA_FORMAT error about a file's content. */
export function formatError(fn: string, thing: string, expected: string, actual: string, cause?: unknown): PatchcertError {
  return new PatchcertError('DATA_FORMAT', mustBe(fn, thing, expected, actual), { cause });
}

/** Throws `code` with the house-style message unless `cond` holds. */
export function check(
  cond: unknown,
  code: PatchcertErrorCode,
  fn: string,
  thing: string,
  expected: string,
  actual: () => string,
): asserts cond {
  if (!cond) throw new PatchcertError(code, mustBe(fn, thing, expected, actual()));
}
