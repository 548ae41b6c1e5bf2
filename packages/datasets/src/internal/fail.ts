import { PatchcertError, mustBe } from '@patchcert/backend';

/** A DATA_FORMAT error about a file's content. */
export function formatError(fn: string, thing: string, expected: string, actual: string, cause?: unknown): PatchcertError {
  return new PatchcertError('DATA_FORMAT', mustBe(fn, thing, expected, actual), { cause });
}
