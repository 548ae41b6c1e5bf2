import { list } from 'tar';
import { formatError } from './fail.js';
import { statOrThrow } from './files.js';

/** True when `path` names a tar archive (optionally gzipped) by its extension. */
export function isTarPath(path: string): boolean {
  return /\.(tar|tar\.gz|tgz)$/i.test(path);
}

/**
 * Streams a tar archive (gzip detected automatically) once, returning the paths of all regular
 * files and the bytes of those `keep` accepts. Only kept files are held in memory.
 *
 * @throws PatchcertError FILE_NOT_FOUND when the archive is missing, DATA_FORMAT when it is
 * corrupt or truncated (strict parsing: any tar warning fails the read, so nothing partial is
 * returned)
 */
export async function readTarFiles(
  fn: string,
  file: string,
  keep: (path: string) => boolean,
): Promise<{ paths: string[]; contents: Map<string, Uint8Array> }> {
  statOrThrow(fn, file, 'archive');
  const paths: string[] = [];
  const contents = new Map<string, Uint8Array>();
  const pending: Promise<void>[] = [];
  let entryError: Error | undefined;
  try {
    await list({
      file,
      strict: true,
      onReadEntry: (entry) => {
        if (entry.type !== 'File' && entry.type !== 'OldFile') return;
        const path = entry.path.replace(/^\.\//, '');
        paths.push(path);
        if (!keep(path)) return;
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        pending.push(
          new Promise<void>((resolve) => {
            entry.on('end', () => {
              const data = Buffer.concat(chunks);
              if (data.length !== entry.size) {
                entryError ??= formatError(fn, `entry '${path}' of '${file}'`, `${entry.size} bytes`, `${data.length} bytes (truncated archive)`);
              } else {
                contents.set(path, data);
              }
              resolve();
            });
          }),
        );
      },
    });
    await Promise.all(pending);
  } catch (e) {
    if (e instanceof Error && e.name === 'PatchcertError') throw e;
    throw formatError(fn, `archive '${file}'`, 'a complete tar or tar.gz file', `a corrupt or truncated one (${(e as Error).message})`, e);
  }
  if (entryError) throw entryError;
  return { paths, contents };
}
