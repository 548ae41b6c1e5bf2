// PcWindowSums on wasm and cpu: a dense layer's term summed over every window of a grid (see
// kernel-names.ts). bounds' MLP fast path formed per-pixel products [batch, h, w, units] with a
// broadcasting multiply and then summed each window with a depthwise conv: two passes that
// write and read the products. Here each window's rows of the weights are scaled and summed
// straight into the output.
import type { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { PcWindowSums, type PcWindowSumsAttrs } from '../kernel-names.js';
import type { KernelArgs, WasmBackend } from './wasm/wasm-backend.js';
import { patchcertWasm } from './wasm/patchcert-module.js';

interface Shapes extends PcWindowSumsAttrs {
  batch: number;
  features: number;
  units: number;
}

function checkArgs(args: KernelArgs): { coef: tf.TensorInfo; weights: tf.TensorInfo; s: Shapes } {
  const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH', what: string) => new PatchcertError(code, `Error in ${PcWindowSums}: ${what}.`);
  const { coef, weights } = args.inputs;
  for (const [name, info] of [['coef', coef], ['weights', weights]] as const) {
    if (info === undefined) throw fail('INVALID_ARGUMENT', `input '${name}' must be given, but got none`);
    if (info.dtype !== 'float32') throw fail('INVALID_ARGUMENT', `input '${name}' must be float32, but got ${info.dtype}`);
    if (info.shape.length !== 2) throw fail('SHAPE_MISMATCH', `'${name}' must be 2-D, but got [${info.shape.join(',')}]`);
  }
  const [batch, features] = coef!.shape as [number, number];
  const [wf, units] = weights!.shape as [number, number];
  if (wf !== features) throw fail('SHAPE_MISMATCH', `'weights' must have ${features} rows (one per feature of 'coef'), but got [${weights!.shape.join(',')}]`);
  const a = (args.attrs ?? {}) as unknown as PcWindowSumsAttrs;
  const ints = [a.width, a.channels, a.gridHeight, a.gridWidth];
  if (!ints.every((v) => Number.isInteger(v) && v >= 1)) throw fail('INVALID_ARGUMENT', `width, channels, gridHeight, gridWidth must be positive integers, but got ${ints.join(', ')}`);
  if (!Array.isArray(a.taps) && !ArrayBuffer.isView(a.taps)) throw fail('INVALID_ARGUMENT', 'taps must be an array of feature offsets');
  const last = ((a.gridHeight - 1) * a.width + a.gridWidth - 1) * a.channels;
  for (const t of a.taps) {
    if (!Number.isInteger(t) || t < 0 || last + t >= features) throw fail('INVALID_ARGUMENT', `every tap must keep every window inside the ${features} features, but got tap ${t} (last window starts at ${last})`);
  }
  return { coef: coef!, weights: weights!, s: { ...a, taps: Array.from(a.taps), batch, features, units } };
}

/** The loop in JavaScript (cpu, and wasm where patchcert's module cannot run). */
function sumsLoop(s: Shapes, coef: Float32Array, weights: Float32Array, out: Float32Array): void {
  const { units } = s;
  let o = 0;
  for (let b = 0; b < s.batch; b++) {
    for (let r = 0; r < s.gridHeight; r++) {
      for (let c = 0; c < s.gridWidth; c++, o += units) {
        const origin = (r * s.width + c) * s.channels;
        out.fill(0, o, o + units);
        for (const t of s.taps) {
          const v = coef[b * s.features + origin + t]!;
          if (v === 0) continue;
          const w = (origin + t) * units;
          for (let i = 0; i < units; i++) out[o + i] = out[o + i]! + v * weights[w + i]!;
        }
      }
    }
  }
}

interface CpuBackend extends tf.KernelBackend {
  data: { get(dataId: tf.DataId): { values?: tf.backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
}

const outShape = (s: Shapes) => [s.batch, s.gridHeight * s.gridWidth, s.units];

function windowSumsCpu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const { coef, weights, s } = checkArgs(args);
  const out = new Float32Array(s.batch * s.gridHeight * s.gridWidth * s.units);
  sumsLoop(s, backend.data.get(coef.dataId).values as Float32Array, backend.data.get(weights.dataId).values as Float32Array, out);
  return backend.makeTensorInfo(outShape(s), 'float32', out);
}

function windowSumsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { coef, weights, s } = checkArgs(args);
  // Allocate before taking views: an allocation may grow the heap and detach earlier views.
  const out = backend.makeOutput(outShape(s), 'float32');
  const taps = backend.makeOutput([s.taps.length], 'int32');
  try {
    const tapView = backend.typedArrayFromHeap(taps) as Int32Array;
    tapView.set(s.taps);
    const [c, w, o] = [coef, weights, out].map((i) => backend.typedArrayFromHeap(i) as Float32Array) as [Float32Array, Float32Array, Float32Array];
    const module = patchcertWasm(backend);
    if (module === undefined) sumsLoop(s, c, w, o);
    else module.windowSums(c.byteOffset, w.byteOffset, tapView.byteOffset, o.byteOffset, s.batch, s.features, s.units, s.taps.length, s.width, s.channels, s.gridHeight, s.gridWidth);
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    backend.disposeData(taps.dataId);
  }
  return out;
}

/** wasm {@link PcWindowSums}: one SIMD loop of patchcert's module. */
export const windowSumsWasmConfig: tf.KernelConfig = { kernelName: PcWindowSums, backendName: 'wasm', kernelFunc: windowSumsWasm as unknown as tf.KernelFunc };

/** cpu {@link PcWindowSums}: the same sums as a JavaScript loop. */
export const windowSumsCpuConfig: tf.KernelConfig = { kernelName: PcWindowSums, backendName: 'cpu', kernelFunc: windowSumsCpu as unknown as tf.KernelFunc };
