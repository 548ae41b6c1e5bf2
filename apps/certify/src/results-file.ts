import { readFileSync, renameSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PatchcertError } from '@patchcert/backend';
import { RESULTS_SCHEMA, type CertifyResults } from './results.js';

/**
 * Writes `text` to `path` so that a reader (or a crash) never sees half a file: the text goes to
 * a temporary file beside it, which is then renamed over the target (atomic on one filesystem).
 */
export function writeFileAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes a results file atomically. */
export function writeResults(path: string, results: CertifyResults): void {
  writeFileAtomic(path, JSON.stringify(results, null, 1) + '\n');
}

/**
 * Reads a results file written by {@link writeResults}.
 * @throws PatchcertError `FILE_NOT_FOUND` when it is missing, `DATA_FORMAT` when it is not a
 *   patchcert results file.
 */
export function readResults(path: string): CertifyResults {
  if (!existsSync(path)) {
    throw new PatchcertError('FILE_NOT_FOUND', `Error in readResults: the results file must exist to resume from, but ${path} does not.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new PatchcertError('DATA_FORMAT', `Error in readResults: ${path} must be JSON, but it does not parse.`, { cause: err });
  }
  const r = parsed as Partial<CertifyResults> | null;
  if (!r || r.schema !== RESULTS_SCHEMA || !Array.isArray(r.images) || !Array.isArray(r.threats)) {
    throw new PatchcertError(
      'DATA_FORMAT',
      `Error in readResults: ${path} must be a results file with schema '${RESULTS_SCHEMA}', but got schema '${String(r?.schema)}'.`,
    );
  }
  return r as CertifyResults;
}
