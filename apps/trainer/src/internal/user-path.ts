import { isAbsolute, resolve } from 'node:path';

/**
 * Resolves a path typed by the user against the directory it was typed in. `pnpm --filter trainer
 * start` runs inside apps/trainer but records the caller's directory in INIT_CWD (npm's
 * convention), so `--config configs/x.json --out runs/x` mean what the user sees. This is the
 * CLI's only read of process.env besides @patchcert/backend's env.
 */
export function userPath(p: string): string {
  if (isAbsolute(p)) return p;
  return resolve(process.env['INIT_CWD'] || process.cwd(), p);
}
