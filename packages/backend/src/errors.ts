/** The kinds of failure patchcert reports; callers branch on `code`, never on message text. */
export type PatchcertErrorCode =
  | 'INVALID_OPTION'
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED_LAYER'
  | 'BACKEND_UNAVAILABLE'
  | 'DATA_FORMAT'
  | 'FILE_NOT_FOUND'
  | 'MODEL_FORMAT'
  | 'CONFIG_INVALID'
  | 'INTERNAL';

/**
 * The one error class of patchcert. Messages follow
 * "Error in <function>: <thing> must be <expected>, but got <actual>."
 */
export class PatchcertError extends Error {
  override readonly name = 'PatchcertError';
  readonly code: PatchcertErrorCode;
  constructor(code: PatchcertErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/**
 * Throws a {@link PatchcertError} with `code` when `condition` is false. The message is built
 * lazily so the happy path pays nothing for string formatting.
 */
export function assert(
  condition: unknown,
  message: () => string,
  code: PatchcertErrorCode = 'INVALID_ARGUMENT',
): asserts condition {
  if (!condition) throw new PatchcertError(code, message());
}

/**
 * Builds the house-style message "Error in <fn>: <thing> must be <expected>, but got <actual>."
 *
 * @param fn - the public function that reports the error.
 * @param thing - what was wrong (an argument, an option, a file's field).
 * @param expected - what it must be.
 * @param actual - what it was.
 * @returns the message.
 */
export function mustBe(fn: string, thing: string, expected: string, actual: string): string {
  return `Error in ${fn}: ${thing} must be ${expected}, but got ${actual}.`;
}

/**
 * Throws a {@link PatchcertError} with `code` and the {@link mustBe} message unless `cond`
 * holds; `actual` is only called on failure.
 *
 * @throws PatchcertError `code` when `cond` is falsy.
 */
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

/** Converts any thrown value into a {@link PatchcertError}, keeping the original as `cause`. */
export function toPatchcertError(err: unknown): PatchcertError {
  if (err instanceof PatchcertError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PatchcertError('INTERNAL', message, { cause: err });
}
