import { isAbsolute, resolve } from 'node:path';

/**
 * Resolves a path the user typed against the directory they typed it in. `pnpm --filter certify
 * start` runs the script inside apps/certify, but records the caller's directory in INIT_CWD
 * (the npm convention), so `pnpm --filter certify start -- out/model` finds `out/model` where
 * the user is. This is the CLI's only read of process.env besides @patchcert/backend's env.
 */
export function userPath(p: string): string {
  if (isAbsolute(p)) return p;
  return resolve(process.env['INIT_CWD'] || process.cwd(), p);
}
