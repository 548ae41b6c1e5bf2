import { tf } from './tf.js';
import { PatchcertError } from './errors.js';
import { env, toBackendName, type BackendName } from './env.js';
import { startThreadedWasm } from './wasm-threads.js';
import { enableRelaxedSimd } from './kernels/wasm/relaxed-simd.js';

/** What the running backend is, as reported by {@link initBackend}. */
export interface BackendInfo {
  /** patchcert's name for it. */
  name: BackendName;
  /** tfjs's name for it (`wasm`, `cpu`, `tensorflow`). */
  tfjsBackend: string;
  /** WASM SIMD in use (wasm only). */
  simd: boolean;
  /** patchcert's conv loops use fused multiply-adds (WebAssembly relaxed SIMD; wasm only, see env.relaxedSimd). */
  fma?: boolean;
  /** Threads the backend's kernels use. */
  threads: number;
  /** tfjs version. */
  tfjsVersion: string;
}

let current: BackendInfo | undefined;

type Starter = (options: InitBackendOptions) => Promise<Omit<BackendInfo, 'name' | 'tfjsVersion'>>;

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /**
   * wasm only: threads of the kernels (XNNPACK's pool). More than 1 starts tfjs's threaded SIMD
   * build, which tfjs leaves off under Node (see wasm-threads.ts); matmul-heavy work gains most.
   * @defaultValue `env.threads` (`PATCHCERT_THREADS`, else 1)
   */
  threads?: number;
}

const TFJS_NODE_HELP =
  'install it next to patchcert with `pnpm add @tensorflow/tfjs-node@4.22.0` ' +
  '(its install script downloads libtensorflow, so it needs access to storage.googleapis.com)';
const TFJS_GPU_HELP =
  'install it next to patchcert with `pnpm add @tensorflow/tfjs-node-gpu@4.22.0` on a machine with CUDA 11.x and cuDNN 8 ' +
  '(its install script downloads libtensorflow with GPU support)';

async function setOrThrow(tfName: string, name: BackendName): Promise<void> {
  const ok = await tf.setBackend(tfName);
  // tfjs resolves false and silently keeps another backend; patchcert refuses to run on the wrong one.
  if (!ok || tf.getBackend() !== tfName) {
    throw new PatchcertError(
      'BACKEND_UNAVAILABLE',
      `Error in initBackend: backend '${name}' (tfjs '${tfName}') did not start; tfjs is on '${tf.getBackend()}'.`,
    );
  }
  await tf.ready();
}

async function importOptional(pkg: string, name: BackendName, help: string): Promise<void> {
  try {
    await import(pkg);
  } catch (err) {
    throw new PatchcertError(
      'BACKEND_UNAVAILABLE',
      `Error in initBackend: backend '${name}' needs the package ${pkg}, which is not installed or failed to load; ${help}.`,
      { cause: err },
    );
  }
}

/**
 * tfjs-backend-cpu prints a "looks like you are running TensorFlow.js in Node.js" banner (through
 * backend_util.warn) on its first tensor write. patchcert starts cpu on purpose (tests, reference
 * runs), so it makes that first write itself with tfjs's documented IS_TEST flag briefly on, which
 * silences tfjs warnings, and restores the flag at once.
 */
function silenceCpuBanner(): void {
  const before = tf.env().getBool('IS_TEST');
  tf.env().set('IS_TEST', true);
  try {
    tf.scalar(0).dispose();
  } finally {
    tf.env().set('IS_TEST', before);
  }
}

const starters: Record<BackendName, Starter> = {
  async wasm(options) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const { registerWasmKernels } = await import('./kernels/register-all-kernels.js');
    registerWasmKernels();
    const fma = env.relaxedSimd && (await enableRelaxedSimd());
    const threads = options.threads ?? env.threads;
    if (!Number.isInteger(threads) || threads < 1) {
      throw new PatchcertError('INVALID_OPTION', `Error in initBackend: threads must be an integer >= 1, but got ${threads}.`);
    }
    if (threads > 1) await startThreadedWasm(threads, wasm.setThreadsCount, () => setOrThrow('wasm', 'wasm'));
    else await setOrThrow('wasm', 'wasm');
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    return { tfjsBackend: 'wasm', simd, fma: simd && fma, threads: wasm.getThreadsCount() };
  },
  async cpu() {
    const { registerCpuKernels } = await import('./kernels/register-all-kernels.js');
    registerCpuKernels();
    await setOrThrow('cpu', 'cpu');
    silenceCpuBanner();
    return { tfjsBackend: 'cpu', simd: false, threads: 1 };
  },
  async node() {
    await importOptional('@tensorflow/tfjs-node', 'node', TFJS_NODE_HELP);
    await setOrThrow('tensorflow', 'node');
    return { tfjsBackend: 'tensorflow', simd: true, threads: 0 };
  },
  async cuda() {
    await importOptional('@tensorflow/tfjs-node-gpu', 'cuda', TFJS_GPU_HELP);
    await setOrThrow('tensorflow', 'cuda');
    return { tfjsBackend: 'tensorflow', simd: true, threads: 0 };
  },
};

/**
 * Starts a compute backend and makes it tfjs's current one, or throws.
 *
 * @param name - `wasm` (default, SIMD), `cpu`, `node` (tfjs-node) or `cuda` (tfjs-node-gpu);
 *   when omitted, `env.backend` (from `PATCHCERT_BACKEND`).
 * @param options - wasm threads (see {@link InitBackendOptions}).
 * @returns what now runs the kernels.
 * @throws PatchcertError `BACKEND_UNAVAILABLE` when the backend did not start (never falls back),
 *   `INVALID_OPTION` for an unknown name.
 * @example
 * const info = await initBackend('wasm');
 * console.log(describeBackend(info));
 */
export async function initBackend(name?: BackendName | string, options: InitBackendOptions = {}): Promise<BackendInfo> {
  const wanted = toBackendName(name ?? env.backend);
  if (current?.name === wanted && tf.getBackend() === current.tfjsBackend) return current;
  const started = await starters[wanted](options);
  current = { name: wanted, tfjsVersion: tf.version.tfjs, ...started };
  return current;
}

/** The backend started last by {@link initBackend}, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/** One line saying what runs the kernels, printed by every CLI at start. */
export function describeBackend(info: BackendInfo | undefined = current): string {
  if (!info) return 'backend: not started';
  const threads = info.threads === 0 ? 'native' : String(info.threads);
  const workers = env.workers > 1 ? ` workers=${env.workers}` : '';
  return `backend: ${info.name} (tfjs ${info.tfjsBackend} ${info.tfjsVersion}) simd=${info.simd ? 'on' : 'off'}${info.fma ? ' fma=on' : ''} threads=${threads}${workers}`;
}
