// PcGatherRuns: copies runs of floats from a few float32 inputs into one new float32 output, on
// the backend's own memory. bounds' conv-window plans assemble every row's input region this way
// (runs of cells that are consecutive in the clean map or in the row's window); done on the host
// the same copy costs a dataSync of every source and an upload of the result, and those copies
// plus the fresh arrays' page faults and GC were most of the region assembly's time.
import { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { fillOutputs, type KernelArgs, type WasmBackend } from './wasm/wasm-backend.js';
import type { CpuBackend } from './host-kernel.js';
import { patchcertWasm } from './wasm/patchcert-module.js';

/** Kernel name (exported from the package; bounds copies on the host where it is not registered). */
export const PcGatherRuns = 'PcGatherRuns';

/**
 * Attributes of {@link PcGatherRuns}. `runs` holds `count` runs as `[count, 4]` int32 (source,
 * offset, length, zeros before; longer arrays are read only that far): run q copies `length`
 * floats of input `s{source}` from float `offset`, after `zeros` zeros; runs follow each other in
 * the output, and the output ends with zeros up to `size`. One flat array is what the wasm loop
 * reads, so the kernel copies it into the heap in one piece.
 */
export interface PcGatherRunsAttrs {
  runs: Int32Array;
  count: number;
  size: number;
}

/** The inputs in name order `s0, s1, …`. */
function sources(args: KernelArgs): tf.TensorInfo[] {
  const infos: tf.TensorInfo[] = [];
  for (let i = 0; args.inputs[`s${i}`] !== undefined; i++) {
    const info = args.inputs[`s${i}`]!;
    if (info.dtype !== 'float32') throw new PatchcertError('INVALID_ARGUMENT', `Error in ${PcGatherRuns}: inputs must be float32, but got ${info.dtype} for 's${i}'.`);
    infos.push(info);
  }
  return infos;
}

/** Throws unless `count` fits in `runs` (4 ints per run). */
function checkCount(name: string, a: { runs: Int32Array; count: number }): void {
  if (!(a.runs instanceof Int32Array) || !Number.isInteger(a.count) || a.count < 0 || a.count * 4 > a.runs.length) {
    throw new PatchcertError('INVALID_ARGUMENT', `Error in ${name}: runs must be an Int32Array of at least 4 · count = ${4 * a.count} ints, but got ${a.runs instanceof Int32Array ? a.runs.length : typeof a.runs}.`);
  }
}

/**
 * The copy. `srcs` and `out` are views: on wasm all of one heap, where long runs are a native
 * `copyWithin` on that heap (~2× a JS loop, measured); short runs are plain loops.
 */
function copyRuns(a: PcGatherRunsAttrs, srcs: Float32Array[], out: Float32Array): void {
  const bad = (q: number, what: string) => new PatchcertError('INVALID_ARGUMENT', `Error in ${PcGatherRuns}: run ${q} must ${what}.`);
  checkCount(PcGatherRuns, a);
  const shared = srcs.every((v) => v.buffer === out.buffer);
  const heap = shared ? new Float32Array(out.buffer) : out;
  const base = srcs.map((v) => (shared ? v.byteOffset >> 2 : 0));
  const start = shared ? out.byteOffset >> 2 : 0;
  const end = start + a.size;
  const runs = a.runs;
  let o = start;
  for (let q = 0, m = 0; q < a.count; q++, m += 4) {
    const from = runs[m + 1]!;
    const len = runs[m + 2]!;
    const skip = runs[m + 3]!;
    const src = srcs[runs[m]!];
    if (src === undefined || from < 0 || len < 0 || from + len > src.length) throw bad(q, `read inside an input, but reads [${from}, ${from + len}) of input s${runs[m]}`);
    if (skip < 0 || o + skip + len > end) throw bad(q, `fit the output of ${a.size} floats`);
    heap.fill(0, o, o + skip);
    o += skip;
    if (shared && len >= 16) {
      const s = base[runs[m]!]! + from;
      heap.copyWithin(o, s, s + len);
      o += len;
    } else {
      for (let s = from, e = o + len; o < e; ) heap[o++] = src[s++]!;
    }
  }
  if (o < end) heap.fill(0, o, end);
}

function gatherRunsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const a = args.attrs as unknown as PcGatherRunsAttrs;
  const infos = sources(args);
  const module = patchcertWasm(backend);
  checkCount(PcGatherRuns, a);
  const out = backend.makeOutput([a.size], 'float32');
  // Scratch for patchcert's loop: the runs, then each source's byte offset and float count.
  const temps = module === undefined ? [] : ([[a.count * 4, 'int32'], [infos.length * 2, 'int32']] as const);
  fillOutputs(backend, [out], temps, ([meta, table]) => {
    const srcs = infos.map((i) => backend.typedArrayFromHeap(i) as Float32Array);
    const o = backend.typedArrayFromHeap(out) as Float32Array;
    if (module === undefined) {
      copyRuns(a, srcs, o);
      return;
    }
    const m = backend.typedArrayFromHeap(meta!) as Int32Array;
    m.set(a.runs.subarray(0, 4 * a.count));
    const t = backend.typedArrayFromHeap(table!) as Int32Array;
    srcs.forEach((v, i) => {
      t[i] = v.byteOffset;
      t[srcs.length + i] = v.length;
    });
    const bad = module.gatherRuns(m.byteOffset, a.count, t.byteOffset, t.byteOffset + 4 * srcs.length, srcs.length, o.byteOffset, a.size);
    // A run out of bounds: the JavaScript loop names it (it stops at the same run).
    if (bad >= 0) copyRuns(a, srcs, o);
  });
  return out;
}

function gatherRunsCpu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const a = args.attrs as unknown as PcGatherRunsAttrs;
  const infos = sources(args);
  const out = new Float32Array(a.size);
  copyRuns(a, infos.map((i) => backend.data.get(i.dataId).values as Float32Array), out);
  return backend.makeTensorInfo([a.size], 'float32', out);
}

/** wasm {@link PcGatherRuns}: copies on the wasm heap (no dataSync, no upload). */
export const gatherRunsWasmConfig: tf.KernelConfig = { kernelName: PcGatherRuns, backendName: 'wasm', kernelFunc: gatherRunsWasm as unknown as tf.KernelFunc };

/** cpu {@link PcGatherRuns}. */
export const gatherRunsCpuConfig: tf.KernelConfig = { kernelName: PcGatherRuns, backendName: 'cpu', kernelFunc: gatherRunsCpu as unknown as tf.KernelFunc };

/**
 * The gradient of {@link PcGatherRuns}: input `dy` (the runs' layout), one output per source
 * (`sizes[i]` floats) holding the sum of `dy` over every run that read it. Same attributes as
 * PcGatherRuns, with `sizes` in place of `size`.
 */
export const PcScatterAddRuns = 'PcScatterAddRuns';

/** Attributes of {@link PcScatterAddRuns}. */
export interface PcScatterAddRunsAttrs extends Omit<PcGatherRunsAttrs, 'size'> {
  sizes: number[];
}

function scatterAddRuns(a: PcScatterAddRunsAttrs, dy: Float32Array, outs: Float32Array[]): void {
  checkCount(PcScatterAddRuns, a);
  for (const o of outs) o.fill(0);
  const runs = a.runs;
  let o = 0;
  for (let q = 0, m = 0; q < a.count; q++, m += 4) {
    o += runs[m + 3]!;
    const from = runs[m + 1]!;
    const len = runs[m + 2]!;
    const d = outs[runs[m]!];
    if (d === undefined || from < 0 || len < 0 || from + len > d.length || o + len > dy.length) {
      throw new PatchcertError('INVALID_ARGUMENT', `Error in ${PcScatterAddRuns}: run ${q} must lie inside its output and dy, but covers [${from}, ${from + len}) of output ${runs[m]}.`);
    }
    for (let s = from, e = o + len; o < e; ) d[s++]! += dy[o++]!;
  }
}

function dyOf(args: KernelArgs): tf.TensorInfo {
  const dy = args.inputs['dy'];
  if (dy === undefined || dy.dtype !== 'float32') throw new PatchcertError('INVALID_ARGUMENT', `Error in ${PcScatterAddRuns}: input 'dy' must be float32, but got ${dy?.dtype ?? 'none'}.`);
  return dy;
}

function scatterAddRunsWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const a = args.attrs as unknown as PcScatterAddRunsAttrs;
  const dy = dyOf(args);
  // Allocate every output before taking views (an allocation may detach earlier views).
  const outs = a.sizes.map((n) => backend.makeOutput([n], 'float32'));
  try {
    scatterAddRuns(a, backend.typedArrayFromHeap(dy) as Float32Array, outs.map((i) => backend.typedArrayFromHeap(i) as Float32Array));
  } catch (e) {
    for (const o of outs) backend.disposeData(o.dataId);
    throw e;
  }
  return outs;
}

function scatterAddRunsCpu(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as CpuBackend;
  const a = args.attrs as unknown as PcScatterAddRunsAttrs;
  const outs = a.sizes.map((n) => new Float32Array(n));
  scatterAddRuns(a, backend.data.get(dyOf(args).dataId).values as Float32Array, outs);
  return outs.map((o) => backend.makeTensorInfo([o.length], 'float32', o));
}

/** wasm {@link PcScatterAddRuns}: adds on the wasm heap (no dataSync of dy, no upload). */
export const scatterAddRunsWasmConfig: tf.KernelConfig = { kernelName: PcScatterAddRuns, backendName: 'wasm', kernelFunc: scatterAddRunsWasm as unknown as tf.KernelFunc };

/** cpu {@link PcScatterAddRuns}. */
export const scatterAddRunsCpuConfig: tf.KernelConfig = { kernelName: PcScatterAddRuns, backendName: 'cpu', kernelFunc: scatterAddRunsCpu as unknown as tf.KernelFunc };
