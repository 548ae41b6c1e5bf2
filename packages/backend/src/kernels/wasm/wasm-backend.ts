// Shared plumbing of patchcert's wasm kernels: the backend name they register under, the two
// methods of tfjs-backend-wasm's BackendWasm they use beyond KernelBackend, and access to the
// stock kernels they are composed from.
import { tf } from '../../tf.js';
import { PatchcertError } from '../../errors.js';

/** The tfjs backend name every patchcert wasm kernel registers under. */
export const WASM_BACKEND_NAME = 'wasm';

/** The part of tfjs-backend-wasm's `BackendWasm` the kernels use (typed here to avoid a deep import). */
export interface WasmBackend extends tf.KernelBackend {
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: unknown): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.TypedArray;
}

/** The arguments tfjs hands a kernel function. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: tf.KernelBackend;
  attrs?: tf.NamedAttrMap;
}

type StockKernel = (args: KernelArgs) => tf.TensorInfo;

// The stock configs patchcert replaced, kept so a replacement can still run the original (its
// plain path) and its setup (which binds the native function).
const replacedStock = new Map<string, tf.KernelConfig>();

// patchcert's own configs, so a lookup for the stock kernel never returns one of them (which
// would make a replacement call itself).
const patchcertConfigs = new WeakSet<tf.KernelConfig>();

/** Remembers the stock config a patchcert kernel replaces, before the replacement is registered. */
export function rememberStock(config: tf.KernelConfig): void {
  if (!patchcertConfigs.has(config)) replacedStock.set(config.kernelName, config);
}

/** Marks `config` as patchcert's, so {@link stockConfig} never returns it. */
export function markPatchcertKernel(config: tf.KernelConfig): void {
  patchcertConfigs.add(config);
}

/** True when `config` is one of patchcert's kernels. */
export function isPatchcertKernel(config: tf.KernelConfig | undefined): boolean {
  return config !== undefined && patchcertConfigs.has(config);
}

/** The stock wasm config of `kernelName` (the original when patchcert replaced it), or undefined. */
export function stockConfig(kernelName: string): tf.KernelConfig | undefined {
  const saved = replacedStock.get(kernelName);
  if (saved !== undefined) return saved;
  const registered = tf.getKernel(kernelName, WASM_BACKEND_NAME);
  return isPatchcertKernel(registered) ? undefined : registered;
}

/**
 * Runs the stock wasm kernel `kernelName` (the original one when patchcert replaced it).
 * @throws PatchcertError `BACKEND_UNAVAILABLE` when tfjs-backend-wasm has no such kernel.
 */
export function runStock(kernelName: string, args: KernelArgs): tf.TensorInfo {
  const config = stockConfig(kernelName);
  if (config === undefined) {
    throw new PatchcertError(
      'BACKEND_UNAVAILABLE',
      `Error in ${kernelName} (wasm): the stock wasm kernel '${kernelName}' must be registered, but got none; import @tensorflow/tfjs-backend-wasm before registering patchcert's kernels.`,
    );
  }
  return (config.kernelFunc as unknown as StockKernel)(args);
}

/**
 * `x` again under one more reference to its data, as tfjs's own Reshape does: for kernels whose
 * output is the input unchanged (tensor data is never written in place after a kernel returns).
 */
export function shareInput(backend: tf.KernelBackend, x: tf.TensorInfo, shape: readonly number[] = x.shape): tf.TensorInfo {
  (backend as tf.KernelBackend & { incRef(dataId: tf.DataId): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...shape], dtype: x.dtype };
}

/** Frees intermediate results of stock kernels (reference-counted, so reshaped views are safe). */
export function disposeIntermediates(backend: tf.KernelBackend, infos: readonly tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/**
 * Allocates scratch buffers (`temps`: element count and dtype each), runs `fill` on them and
 * frees them; on a throw, frees `outputs` too, so a kernel returns either complete outputs or
 * nothing. The caller allocates `outputs` and `fill` takes every view: allocating after a view
 * is taken may grow the heap and detach it.
 */
export function fillOutputs(backend: WasmBackend, outputs: readonly tf.TensorInfo[], temps: ReadonlyArray<readonly [number, 'float32' | 'int32']>, fill: (temps: tf.TensorInfo[]) => void): void {
  const buffers = temps.map(([n, dtype]) => backend.makeOutput([n], dtype));
  try {
    fill(buffers);
  } catch (e) {
    for (const o of outputs) backend.disposeData(o.dataId);
    throw e;
  } finally {
    for (const t of buffers) backend.disposeData(t.dataId);
  }
}

/** Explicit padding `[[0,0],[top,bottom],[left,right],[0,0]]` of a 4-D NHWC conv, as tfjs attrs take it. */
export type ExplicitPad4 = [[number, number], [number, number], [number, number], [number, number]];

/**
 * The byte offset of a tensor's data in the wasm heap: the pointer patchcert's module reads.
 * Unlike a typed-array view, it stays valid when a later allocation grows the heap.
 */
export function heapOffset(backend: WasmBackend, t: tf.TensorInfo): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}

/** Builds an {@link ExplicitPad4}. */
export function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPad4 {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** Throws unless `dataFormat` is NHWC, the only layout the wasm conv kernels take. */
export function assertNHWC(kernelName: string, dataFormat: string | undefined): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new PatchcertError(
      'INVALID_ARGUMENT',
      `Error in ${kernelName} (wasm): dataFormat must be 'NHWC', but got '${dataFormat}'.`,
    );
  }
}
