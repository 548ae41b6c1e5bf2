import { initBackend, describeBackend, type BackendName } from '@patchcert/backend';

/** A backend that started, with the one-line description benchmarks put in their names. */
export interface StartedBackend {
  name: BackendName;
  description: string;
}

/**
 * Tries each backend in turn and returns those that start (wasm and cpu always; node and cuda
 * only where tfjs-node / tfjs-node-gpu are installed). Leaves the last one tried current, so
 * callers start the one they measure with `initBackend` before running.
 *
 * @param names - backends to try, in order.
 * @returns the backends that started, and why each other one did not.
 */
export async function startableBackends(
  names: readonly BackendName[] = ['wasm', 'cpu', 'node', 'cuda'],
): Promise<{ started: StartedBackend[]; skipped: string[] }> {
  const started: StartedBackend[] = [];
  const skipped: string[] = [];
  for (const name of names) {
    try {
      const info = await initBackend(name);
      started.push({ name, description: describeBackend(info) });
    } catch (err) {
      skipped.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { started, skipped };
}
