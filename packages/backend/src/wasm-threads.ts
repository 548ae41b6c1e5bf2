// Multithreaded tfjs-backend-wasm under Node. tfjs ships the threaded SIMD build but turns it off
// in Node, for three reasons this module works around while the backend starts:
// 1. the pthread worker script and the main script reach the workers as Blob URLs, which Node's
//    Worker cannot load (ERR_WORKER_PATH): both are written to a temporary folder instead;
// 2. the main script is the bundled factory's source, which refers to the bundle's own
//    `require$$N` and `commonjsGlobal` bindings: the file defines them first;
// 3. the thread count is capped at half the logical cores (one thread on a 2-core machine): the
//    core count is raised for the duration of the start.
// After the start the pool's workers are unref'd, so an idle pool does not keep the process alive.
// The two files go to one folder per tfjs version and user, rewritten atomically by each start
// (their content is fixed), so nothing accumulates and pool workers may read them at any time.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { PatchcertError } from './errors.js';
import { tf } from './tf.js';

/** The factory source starts with this; the pthread worker script loads it with importScripts. */
const FACTORY_PREFIX = 'var WasmBackendModuleThreadedSimd';
/** How the worker script loads a Blob main script (tfjs-backend-wasm 4.22). */
const WORKER_BLOB_LOAD = 'var objectUrl=URL.createObjectURL(e.data.urlOrBlob);importScripts(objectUrl);URL.revokeObjectURL(objectUrl)';
/** The bundle bindings the factory's source uses (tf-backend-wasm.node.js 4.22). */
const BUNDLE_BINDINGS =
  "var require$$0 = require('fs'), require$$1 = require('path'), require$$2 = require('worker_threads'), " +
  "require$$3 = require('perf_hooks'), require$$4 = require('os'), commonjsGlobal = globalThis;\n";

interface PThreadPool {
  unusedWorkers?: { unref(): void }[];
  runningWorkers?: { unref(): void }[];
}

/**
 * Starts tfjs's wasm backend with `threads` XNNPACK threads: `start` must set and await the
 * backend. The hooks are in place only while `start` runs. Has no effect on a wasm backend that
 * already started in this process (tfjs keeps it); `getThreadsCount()` says what runs.
 *
 * @throws PatchcertError `BACKEND_UNAVAILABLE` when this tfjs version's scripts do not have the
 *   shape the workaround expects (then nothing is left patched).
 */
export async function startThreadedWasm(threads: number, setThreadsCount: (n: number) => void, start: () => Promise<void>): Promise<void> {
  const dir = join(os.tmpdir(), `patchcert-wasm-${tf.version.tfjs}-${process.getuid?.() ?? 0}`);
  mkdirSync(dir, { recursive: true });
  const factoryFile = join(dir, 'factory.js');
  const workerFile = join(dir, 'worker.js');
  const RealBlob = globalThis.Blob;
  const realCreateObjectURL = URL.createObjectURL;
  const realCpus = os.cpus;
  const texts = new WeakMap<Blob, string>();
  let failure: string | undefined;
  class RecordingBlob extends RealBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const parts = args[0] ?? [];
      const text = parts.every((p) => typeof p === 'string') ? parts.join('') : undefined;
      if (text === undefined) return;
      texts.set(this, text);
      if (text.startsWith(FACTORY_PREFIX)) writeAtomically(factoryFile, BUNDLE_BINDINGS + text);
    }
  }
  globalThis.Blob = RecordingBlob as typeof Blob;
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined || !text.includes('importScripts')) return realCreateObjectURL(blob);
    const patched = text.replace(WORKER_BLOB_LOAD, `importScripts(${JSON.stringify(factoryFile)})`);
    if (patched === text) failure = 'the pthread worker script no longer loads its main script as expected';
    writeAtomically(workerFile, patched);
    return workerFile;
  };
  os.cpus = () => Array.from({ length: 2 * threads }, () => realCpus()[0]!);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  try {
    await start();
  } finally {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreateObjectURL;
    os.cpus = realCpus;
  }
  if (failure) {
    throw new PatchcertError('BACKEND_UNAVAILABLE', `Error in initBackend: wasm threads: ${failure} (tfjs-backend-wasm ${tf.version.tfjs}); use threads: 1.`);
  }
  const pool = (tf.backend() as unknown as { wasm?: { PThread?: PThreadPool } }).wasm?.PThread;
  for (const w of [...(pool?.unusedWorkers ?? []), ...(pool?.runningWorkers ?? [])]) w.unref();
}

/** Writes `path` through a temporary name and a rename, so a concurrent reader sees a whole file. */
function writeAtomically(path: string, text: string): void {
  // pid and thread id: worker threads of one process may start threaded wasm at the same time.
  const tmp = `${path}.${process.pid}.${threadId}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
