// PcWindowSums on wasm and cpu: a dense layer's term summed over windows of its input (see
// kernel-names.ts). bounds' MLP fast path formed per-pixel products [batch, h, w, units] with a
// broadcasting multiply and then summed each window with a depthwise conv: two passes that
// write and read the products. Here each window's rows of the weights are scaled and summed
// straight into the output.
import type { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { PcWindowSums, type PcWindowSumsAttrs } from '../kernel-names.js';
import type { KernelArgs, WasmBackend } from './wasm/wasm-backend.js';
import type { CpuBackend } from './host-kernel.js';
import { patchcertWasm } from './wasm/patchcert-module.js';

/** Shapes of a PcWindowSums call. */
export interface Shapes {
  taps: number[];
  batch: number;
  features: number;
  units: number;
  count: number;
  coefShared: boolean;
  originsShared: boolean;
}

function checkArgs(args: KernelArgs): { coef: tf.TensorInfo; weights: tf.TensorInfo; origins: tf.TensorInfo; s: Shapes } {
  const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH', what: string) => new PatchcertError(code, `Error in ${PcWindowSums}: ${what}.`);
  const { coef, weights, origins } = args.inputs;
  for (const [name, info, dtype] of [['coef', coef, 'float32'], ['weights', weights, 'float32'], ['origins', origins, 'int32']] as const) {
    if (info === undefined) throw fail('INVALID_ARGUMENT', `input '${name}' must be given, but got none`);
    if (info.dtype !== dtype) throw fail('INVALID_ARGUMENT', `input '${name}' must be ${dtype}, but got ${info.dtype}`);
    if (info.shape.length !== 2) throw fail('SHAPE_MISMATCH', `'${name}' must be 2-D, but got [${info.shape.join(',')}]`);
  }
  const [cb, features] = coef!.shape as [number, number];
  const [wf, units] = weights!.shape as [number, number];
  const [ob, count] = origins!.shape as [number, number];
  if (wf !== features) throw fail('SHAPE_MISMATCH', `'weights' must have ${features} rows (one per feature of 'coef'), but got [${weights!.shape.join(',')}]`);
  const batch = Math.max(cb, ob);
  if ((cb !== 1 && cb !== batch) || (ob !== 1 && ob !== batch)) throw fail('SHAPE_MISMATCH', `'coef' [${coef!.shape.join(',')}] and 'origins' [${origins!.shape.join(',')}] must have the same first dimension or 1`);
  const { taps } = (args.attrs ?? {}) as unknown as PcWindowSumsAttrs;
  if (!Array.isArray(taps) && !ArrayBuffer.isView(taps)) throw fail('INVALID_ARGUMENT', 'taps must be an array of feature offsets');
  for (const t of taps) if (!Number.isInteger(t) || t < 0) throw fail('INVALID_ARGUMENT', `taps must be non-negative integers, but got ${t}`);
  return { coef: coef!, weights: weights!, origins: origins!, s: { taps: Array.from(taps), batch, features, units, count, coefShared: cb === 1 && batch !== 1, originsShared: ob === 1 && batch !== 1 } };
}

/** Checks that every window of `origins` stays inside the features (the loops do not check). */
export function checkOrigins(s: Pick<Shapes, 'taps' | 'features'>, origins: Int32Array, kernel: string = PcWindowSums): void {
  const reach = Math.max(0, ...s.taps);
  for (let i = 0; i < origins.length; i++) {
    const o = origins[i]!;
    if (!(o >= 0 && o + reach < s.features)) {
      throw new PatchcertError('INVALID_ARGUMENT', `Error in ${kernel}: every window must lie inside the ${s.features} features, but origin ${o} at ${i} with tap ${reach} does not.`);
    }
  }
}

/** The loop in JavaScript (cpu, and wasm where patchcert's module cannot run). */
export function sumsLoop(s: Shapes, coef: Float32Array, weights: Float32Array, origins: Int32Array, out: Float32Array): void {
  const { units } = s;
  let o = 0;
  for (let b = 0; b < s.batch; b++) {
    const c0 = s.coefShared ? 0 : b * s.features;
    for (let q = 0; q < s.count; q++, o += units) {
      const origin = origins[(s.originsShared ? 0 : b * s.count) + q]!;
      out.fill(0, o, o + units);
      for (const t of s.taps) {
        const v = coef[c0 + origin + t]!;
        if (v === 0) continue;
        const w = (origin + t) * units;
        for (let i = 0; i < units; i++) out[o + i] = out[o + i]! + v * weights[w + i]!;
      }
    }
  }
}

const outShape = (s: Shapes) => [s.batch, s.count, s.units];

function windowSumsCpu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const { coef, weights, origins, s } = checkArgs(args);
  const o = backend.data.get(origins.dataId).values as Int32Array;
  checkOrigins(s, o);
  const out = new Float32Array(s.batch * s.count * s.units);
  sumsLoop(s, backend.data.get(coef.dataId).values as Float32Array, backend.data.get(weights.dataId).values as Float32Array, o, out);
  return backend.makeTensorInfo(outShape(s), 'float32', out);
}

function windowSumsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { coef, weights, origins, s } = checkArgs(args);
  // Allocate before taking views: an allocation may grow the heap and detach earlier views.
  const out = backend.makeOutput(outShape(s), 'float32');
  const taps = backend.makeOutput([s.taps.length], 'int32');
  try {
    const tapView = backend.typedArrayFromHeap(taps) as Int32Array;
    tapView.set(s.taps);
    const originView = backend.typedArrayFromHeap(origins) as Int32Array;
    checkOrigins(s, originView);
    const [c, w, o] = [coef, weights, out].map((i) => backend.typedArrayFromHeap(i) as Float32Array) as [Float32Array, Float32Array, Float32Array];
    const module = patchcertWasm(backend);
    if (module === undefined) sumsLoop(s, c, w, originView, o);
    else {
      module.windowSums(c.byteOffset, s.coefShared ? 1 : 0, w.byteOffset, originView.byteOffset, s.originsShared ? 1 : 0, tapView.byteOffset, o.byteOffset,
        s.batch, s.features, s.units, s.count, s.taps.length);
    }
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
