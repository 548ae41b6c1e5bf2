// PcDenseTailMargins on wasm and cpu: PcReluDenseReluMargins with its hidden box summed from a
// window's change first. bounds' conv-window plan formed that box with two [rows, f]·[f, u1]
// matmuls per window group (a quarter of the 4-layer CNN's certification kernels after the
// tail was fused) although a third of the window's inputs do not change for a given location;
// here only the inputs that change in either row of a pair are multiplied.
import type { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { PcDenseTailMargins } from '../kernel-names.js';
import { fillOutputs, type KernelArgs, type WasmBackend } from './wasm/wasm-backend.js';
import type { CpuBackend } from './host-kernel.js';
import { patchcertWasm } from './wasm/patchcert-module.js';
import { checkIndices, fillTables, tableTemps } from './relu-elided-margins.js';
import { checkTail, fusedLoop as tailLoop } from './relu-dense-relu-margins.js';

interface Shapes {
  rows: number;
  f: number;
  u1: number;
  u2: number;
  classes: number;
  images: number;
}

const NAMES = ['dMu', 'dR', 'kernel1', 'absKernel1', 'base', 'baseRows', 'kernel2', 'absKernel2', 'bias2', 'kernel', 'bias', 'labels'] as const;
type Name = (typeof NAMES)[number];
type FloatName = Exclude<Name, 'baseRows' | 'labels'>;

/** Validates inputs; throws PatchcertError naming the input and what is expected. */
function checkArgs(args: KernelArgs): { infos: Record<Name, tf.TensorInfo>; s: Shapes } {
  const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH', what: string) => new PatchcertError(code, `Error in ${PcDenseTailMargins}: ${what}.`);
  const infos = {} as Record<Name, tf.TensorInfo>;
  for (const name of NAMES) {
    const info = args.inputs[name];
    if (info === undefined) throw fail('INVALID_ARGUMENT', `input '${name}' must be given, but got none`);
    const dtype = name === 'labels' || name === 'baseRows' ? 'int32' : 'float32';
    if (info.dtype !== dtype) throw fail('INVALID_ARGUMENT', `input '${name}' must be ${dtype}, but got ${info.dtype}`);
    infos[name] = info;
  }
  const shape = (n: Name) => `[${infos[n].shape.join(',')}]`;
  const eq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const [rows, f] = infos.dMu.shape as [number, number];
  if (infos.dMu.shape.length !== 2) throw fail('SHAPE_MISMATCH', `'dMu' must be [rows, inputs], but got ${shape('dMu')}`);
  if (!eq(infos.dR.shape, [rows, f])) throw fail('SHAPE_MISMATCH', `'dR' must be [${rows},${f}] like 'dMu', but got ${shape('dR')}`);
  const u1 = infos.kernel1.shape[1]!;
  if (!eq(infos.kernel1.shape, [f, u1])) throw fail('SHAPE_MISMATCH', `'kernel1' must be [${f}, units], but got ${shape('kernel1')}`);
  if (!eq(infos.absKernel1.shape, [f, u1])) throw fail('SHAPE_MISMATCH', `'absKernel1' must be [${f},${u1}] like 'kernel1', but got ${shape('absKernel1')}`);
  const images = infos.base.shape[0]!;
  if (!eq(infos.base.shape, [images, u1])) throw fail('SHAPE_MISMATCH', `'base' must be [images, ${u1}], but got ${shape('base')}`);
  if (!eq(infos.baseRows.shape, [rows])) throw fail('SHAPE_MISMATCH', `'baseRows' must be [${rows}], but got ${shape('baseRows')}`);
  return { infos, s: { rows, f, u1, images, ...checkTail(infos, rows, u1, fail) } };
}

/** The rule in JavaScript (cpu, and wasm where patchcert's module cannot run): the hidden box, then PcReluDenseReluMargins' loop. */
function fusedLoop(s: Shapes, v: Record<FloatName, Float32Array>, baseRows: Int32Array, labels: Int32Array, out: Float32Array): void {
  const { rows, f, u1 } = s;
  const mu = new Float32Array(rows * u1);
  const r = new Float32Array(rows * u1);
  for (let q = 0; q < rows; q++) {
    mu.set(v.base.subarray(baseRows[q]! * u1, (baseRows[q]! + 1) * u1), q * u1);
    for (let i = 0; i < f; i++) {
      const dm = v.dMu[q * f + i]!;
      const dr = v.dR[q * f + i]!;
      if (dm === 0 && dr === 0) continue;
      for (let j = 0; j < u1; j++) {
        mu[q * u1 + j] = mu[q * u1 + j]! + dm * v.kernel1[i * u1 + j]!;
        r[q * u1 + j] = r[q * u1 + j]! + dr * v.absKernel1[i * u1 + j]!;
      }
    }
  }
  tailLoop({ rows, u1, u2: s.u2, classes: s.classes }, { mu, r, kernel2: v.kernel2, absKernel2: v.absKernel2, bias2: v.bias2, kernel: v.kernel, bias: v.bias }, labels, out);
}

const FLOATS = NAMES.filter((n) => n !== 'labels' && n !== 'baseRows') as FloatName[];

function checkRows(s: Shapes, baseRows: Int32Array, labels: Int32Array): void {
  checkIndices(baseRows, s.images, 'baseRows', PcDenseTailMargins);
  checkIndices(labels, s.classes, 'labels', PcDenseTailMargins);
}

function denseTailMarginsCpu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const { infos, s } = checkArgs(args);
  const values = (info: tf.TensorInfo) => backend.data.get(info.dataId).values!;
  const [baseRows, labels] = [values(infos.baseRows) as Int32Array, values(infos.labels) as Int32Array];
  checkRows(s, baseRows, labels);
  const v = Object.fromEntries(FLOATS.map((n) => [n, values(infos[n]) as Float32Array])) as Record<FloatName, Float32Array>;
  const out = new Float32Array(s.rows * s.classes);
  fusedLoop(s, v, baseRows, labels, out);
  return backend.makeTensorInfo([s.rows, s.classes], 'float32', out);
}

function denseTailMarginsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { infos, s } = checkArgs(args);
  const ms = { batch: s.rows, total: 1, units: s.u2, classes: s.classes, radShared: false, locsShared: true, count: 1 };
  const out = backend.makeOutput([s.rows, s.classes], 'float32');
  // Scratch (floats): the three tables; the margin loop's packing table and five rows of u2, five
  // rows of the wider of the window and the hidden layer, five of u2, four of u1 (see
  // assembly/relu-elided-margins.ts).
  const scratchFloats = 64 + 5 * (s.u2 + 4) + 5 * (Math.max(s.f, s.u1) + 4) + 5 * (s.u2 + 4) + 4 * (s.u1 + 4);
  fillOutputs(backend, [out], [...tableTemps(ms), [scratchFloats, 'float32']], (temps) => {
    const f32 = (info: tf.TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
    const baseRows = backend.typedArrayFromHeap(infos.baseRows) as Int32Array;
    const labels = backend.typedArrayFromHeap(infos.labels) as Int32Array;
    checkRows(s, baseRows, labels);
    const v = Object.fromEntries(FLOATS.map((n) => [n, f32(infos[n])])) as Record<FloatName, Float32Array>;
    const o = f32(out);
    const module = patchcertWasm(backend);
    if (module === undefined) {
      fusedLoop(s, v, baseRows, labels, o);
      return;
    }
    const [pTab, nTab, eTab, scratch] = temps.map(f32) as [Float32Array, Float32Array, Float32Array, Float32Array];
    fillTables(ms, v.kernel, v.bias, labels, pTab, nTab, eTab);
    module.denseTailMargins(
      v.dMu.byteOffset, v.dR.byteOffset, v.kernel1.byteOffset, v.absKernel1.byteOffset, v.base.byteOffset, baseRows.byteOffset,
      v.kernel2.byteOffset, v.absKernel2.byteOffset, v.bias2.byteOffset, labels.byteOffset,
      pTab.byteOffset, nTab.byteOffset, eTab.byteOffset, o.byteOffset, scratch.byteOffset,
      s.rows, s.f, s.u1, s.u2, s.classes,
    );
  });
  return out;
}

/** wasm {@link PcDenseTailMargins}: one SIMD loop of patchcert's module. */
export const denseTailMarginsWasmConfig: tf.KernelConfig = { kernelName: PcDenseTailMargins, backendName: 'wasm', kernelFunc: denseTailMarginsWasm as unknown as tf.KernelFunc };

/** cpu {@link PcDenseTailMargins}: the same rule as a JavaScript loop. */
export const denseTailMarginsCpuConfig: tf.KernelConfig = { kernelName: PcDenseTailMargins, backendName: 'cpu', kernelFunc: denseTailMarginsCpu as unknown as tf.KernelFunc };
