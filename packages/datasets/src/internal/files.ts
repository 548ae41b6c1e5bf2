import { readFileSync, statSync, type Stats } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { PatchcertError, mustBe } from '@patchcert/backend';
import { formatError } from './fail.js';

/** `stat` that turns a missing path into FILE_NOT_FOUND naming what was looked for. */
export function statOrThrow(fn: string, path: string, what: string): Stats {
  try {
    return statSync(path);
  } catch (e) {
    throw new PatchcertError('FILE_NOT_FOUND', mustBe(fn, what, `an existing path`, `'${path}', which does not exist`), {
      cause: e,
    });
  }
}

/** True when `path` exists (any kind). */
export function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a whole file, gunzipping it when its name ends in `.gz`; errors name the file. */
export function readMaybeGzip(fn: string, path: string, what: string): Uint8Array {
  statOrThrow(fn, path, what);
  const raw = readFileSync(path);
  if (!path.endsWith('.gz')) return raw;
  try {
    return gunzipSync(raw);
  } catch (e) {
    throw formatError(fn, `${what} '${path}'`, 'a complete gzip stream', `a corrupt or truncated one (${(e as Error).message})`, e);
  }
}
