// A factory for elementwise kernels that run as a plain JavaScript loop over float32 arrays on the
// host: the cpu backend's own arrays, or views into the wasm backend's heap (no copies). For
// elementwise rules tfjs-wasm spends 2–3 ns per element on every composed op, while one fused loop
// reads each input once, so a host loop beats composing stock kernels.
import { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import type { KernelArgs, WasmBackend } from './wasm/wasm-backend.js';
import { patchcertWasm, type PatchcertWasm } from './wasm/patchcert-module.js';

/** The loop of a host kernel: reads `inputs`, writes every element of `outputs` (all one length). */
export type HostLoop = (inputs: readonly Float32Array[], outputs: readonly Float32Array[]) => void;

/**
 * The wasm SIMD form of a host loop, in patchcert's compiled module: byte offsets of the inputs
 * and outputs in the wasm heap and the byte length to process (a multiple of 16); the host loop
 * finishes the last 0–3 elements.
 */
export type SimdLoop = (module: PatchcertWasm, inputs: readonly number[], outputs: readonly number[], bytes: number) => void;

/** The backends a host kernel can run on. */
export type HostBackendName = 'cpu' | 'wasm';

/** What a host kernel needs from its backend: input arrays and fresh outputs. */
interface HostAccess {
  read(backend: tf.KernelBackend, info: tf.TensorInfo): Float32Array;
  /** Allocates `count` float32 outputs of `shape` and returns them with their arrays. */
  allocate(backend: tf.KernelBackend, shape: number[], count: number): { infos: tf.TensorInfo[]; arrays: Float32Array[] };
}

/** The part of tfjs-backend-cpu's `MathBackendCPU` the kernels use (typed here to avoid a deep import). */
export interface CpuBackend extends tf.KernelBackend {
  data: { get(dataId: tf.DataId): { values?: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

const ACCESS: Record<HostBackendName, HostAccess> = {
  cpu: {
    read: (backend, info) => (backend as CpuBackend).data.get(info.dataId).values as Float32Array,
    allocate(backend, shape, count) {
      const size = shape.reduce((a, b) => a * b, 1);
      const arrays = Array.from({ length: count }, () => new Float32Array(size));
      return { infos: arrays.map((a) => (backend as CpuBackend).makeTensorInfo(shape, 'float32', a)), arrays };
    },
  },
  wasm: {
    read: (backend, info) => (backend as WasmBackend).typedArrayFromHeap(info) as Float32Array,
    allocate(backend, shape, count) {
      // Allocate every output before taking any view: an allocation may grow the heap, which
      // detaches views taken earlier.
      const infos = Array.from({ length: count }, () => (backend as WasmBackend).makeOutput(shape, 'float32'));
      return { infos, arrays: infos.map((i) => (backend as WasmBackend).typedArrayFromHeap(i) as Float32Array) };
    },
  },
};

/**
 * Builds the config of an elementwise host kernel on `backendName`.
 *
 * @param kernelName - the kernel's name (from kernel-names.ts).
 * @param backendName - `cpu` or `wasm`.
 * @param inputNames - the named inputs, in the order `loop` reads them; all float32, one shape.
 * @param numOutputs - how many outputs of that shape `loop` writes.
 * @param loop - the elementwise loop.
 * @param simd - on wasm, the same loop in patchcert's compiled module (used when it can run).
 * @returns the kernel config; the kernel throws PatchcertError `INVALID_ARGUMENT` for a non-float32
 *   input and `SHAPE_MISMATCH` for inputs of different shapes.
 */
export function hostKernelConfig(kernelName: string, backendName: HostBackendName, inputNames: readonly string[], numOutputs: number, loop: HostLoop, simd?: SimdLoop): tf.KernelConfig {
  const access = ACCESS[backendName];
  const kernelFunc = (args: KernelArgs): tf.TensorInfo[] => {
    const infos = inputNames.map((name) => {
      const info = args.inputs[name];
      if (info === undefined) throw new PatchcertError('INVALID_ARGUMENT', `Error in ${kernelName} (${backendName}): input '${name}' must be given, but got none.`);
      // Checked here, not in the op: the loops read raw float32 arrays, a limit of these kernels only.
      if (info.dtype !== 'float32') throw new PatchcertError('INVALID_ARGUMENT', `Error in ${kernelName} (${backendName}): only float32 input is supported, but got ${info.dtype} for '${name}'.`);
      return info;
    });
    const shape = infos[0]!.shape;
    for (let i = 1; i < infos.length; i++) {
      if (!tf.util.arraysEqual(infos[i]!.shape, shape)) {
        throw new PatchcertError('SHAPE_MISMATCH', `Error in ${kernelName} (${backendName}): '${inputNames[i]}' must have shape [${shape.join(',')}], but got [${infos[i]!.shape.join(',')}].`);
      }
    }
    const out = access.allocate(args.backend, [...shape], numOutputs);
    const arrays = infos.map((info) => access.read(args.backend, info));
    const loops = backendName === 'wasm' && simd !== undefined ? patchcertWasm(args.backend as WasmBackend) : undefined;
    if (loops === undefined) {
      loop(arrays, out.arrays);
      return out.infos;
    }
    const n = arrays[0]!.length;
    const head = n - (n % 4);
    simd!(loops, arrays.map((a) => a.byteOffset), out.arrays.map((a) => a.byteOffset), head * 4);
    if (head < n) loop(arrays.map((a) => a.subarray(head)), out.arrays.map((a) => a.subarray(head)));
    return out.infos;
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as unknown as tf.KernelFunc };
}
