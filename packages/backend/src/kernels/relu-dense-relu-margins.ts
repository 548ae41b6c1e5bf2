// PcReluDenseReluMargins on wasm and cpu: a bound's last three layers (ReLU, dense, ReLU and the
// elided last dense layer) for rows of a hidden layer's box. bounds' conv-window plan ran them as
// an [rows, 256]·[256, 256] matmul pair per pass (a quarter of the 4-layer CNN's certification
// kernels) although most of the 256 units are inactive over their box and add nothing; here only
// the active ones are multiplied, and the margins follow without another tensor.
import type { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { PcReluDenseReluMargins } from '../kernel-names.js';
import { fillOutputs, type KernelArgs, type WasmBackend } from './wasm/wasm-backend.js';
import type { CpuBackend } from './host-kernel.js';
import { patchcertWasm } from './wasm/patchcert-module.js';
import { checkIndices, fillTables, marginsLoop, tableSizes, tableTemps, type Shapes as MarginShapes } from './relu-elided-margins.js';

/** Shapes of a PcReluDenseReluMargins call. */
export interface Shapes {
  rows: number;
  u1: number;
  u2: number;
  classes: number;
}

const NAMES = ['mu', 'r', 'kernel2', 'absKernel2', 'bias2', 'kernel', 'bias', 'labels'] as const;
type Infos = Record<(typeof NAMES)[number], tf.TensorInfo>;

/** Validates inputs; throws PatchcertError naming the input and what is expected. */
function checkArgs(args: KernelArgs): { infos: Infos; s: Shapes } {
  const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH', what: string) => new PatchcertError(code, `Error in ${PcReluDenseReluMargins}: ${what}.`);
  const infos = {} as Infos;
  for (const name of NAMES) {
    const info = args.inputs[name];
    if (info === undefined) throw fail('INVALID_ARGUMENT', `input '${name}' must be given, but got none`);
    const dtype = name === 'labels' ? 'int32' : 'float32';
    if (info.dtype !== dtype) throw fail('INVALID_ARGUMENT', `input '${name}' must be ${dtype}, but got ${info.dtype}`);
    infos[name] = info;
  }
  const shape = (n: keyof Infos) => `[${infos[n].shape.join(',')}]`;
  const eq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const [rows, u1] = infos.mu.shape as [number, number];
  if (infos.mu.shape.length !== 2) throw fail('SHAPE_MISMATCH', `'mu' must be [rows, units], but got ${shape('mu')}`);
  if (!eq(infos.r.shape, [rows, u1])) throw fail('SHAPE_MISMATCH', `'r' must be [${rows},${u1}] like 'mu', but got ${shape('r')}`);
  return { infos, s: { rows, u1, ...checkTail(infos, rows, u1, fail) } };
}

/**
 * Checks the tail's inputs (`kernel2`, `absKernel2` `[u1, u2]`, `bias2`, `kernel` `[u2, classes]`,
 * `bias`, `labels` `[rows]`), shared with PcDenseTailMargins; returns u2 and the class count.
 */
export function checkTail(
  infos: Record<'kernel2' | 'absKernel2' | 'bias2' | 'kernel' | 'bias' | 'labels', tf.TensorInfo>, rows: number, u1: number,
  fail: (code: 'SHAPE_MISMATCH', what: string) => Error,
): { u2: number; classes: number } {
  const shape = (n: keyof typeof infos) => `[${infos[n].shape.join(',')}]`;
  const eq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const u2 = infos.kernel2.shape[1]!;
  if (!eq(infos.kernel2.shape, [u1, u2])) throw fail('SHAPE_MISMATCH', `'kernel2' must be [${u1}, units], but got ${shape('kernel2')}`);
  if (!eq(infos.absKernel2.shape, [u1, u2])) throw fail('SHAPE_MISMATCH', `'absKernel2' must be [${u1},${u2}] like 'kernel2', but got ${shape('absKernel2')}`);
  if (!eq(infos.bias2.shape, [u2])) throw fail('SHAPE_MISMATCH', `'bias2' must be [${u2}], but got ${shape('bias2')}`);
  const classes = infos.kernel.shape[1]!;
  if (!eq(infos.kernel.shape, [u2, classes])) throw fail('SHAPE_MISMATCH', `'kernel' must be [${u2}, classes], but got ${shape('kernel')}`);
  if (!eq(infos.bias.shape, [classes])) throw fail('SHAPE_MISMATCH', `'bias' must be [${classes}], but got ${shape('bias')}`);
  if (!eq(infos.labels.shape, [rows])) throw fail('SHAPE_MISMATCH', `'labels' must be [${rows}], but got ${shape('labels')}`);
  return { u2, classes };
}

/** The margin kernel's view: every row an image with one location. */
const marginShapes = (s: Shapes): MarginShapes => ({ batch: s.rows, total: 1, units: s.u2, classes: s.classes, radShared: false, locsShared: true, count: 1 });

/** The rule in JavaScript (cpu, and wasm where patchcert's module cannot run). */
export function fusedLoop(s: Shapes, v: Pick<Record<Exclude<(typeof NAMES)[number], 'labels'>, Float32Array>, 'mu' | 'r' | 'kernel2' | 'absKernel2' | 'bias2' | 'kernel' | 'bias'>, labels: Int32Array, out: Float32Array): void {
  const { rows, u1, u2 } = s;
  const mu2 = new Float32Array(rows * u2);
  const r2 = new Float32Array(rows * u2);
  for (let q = 0; q < rows; q++) {
    mu2.set(v.bias2, q * u2);
    for (let i = 0; i < u1; i++) {
      const m = v.mu[q * u1 + i]!;
      const d = v.r[q * u1 + i]!;
      if (m + d <= 0) continue; // inactive over its box: no term (NaN goes on)
      const hi = Math.max(Math.fround(m + d), 0);
      const lo = Math.max(Math.fround(m - d), 0);
      const c = Math.fround(Math.fround(hi + lo) * 0.5);
      const h = Math.fround(Math.fround(hi - lo) * 0.5);
      for (let j = 0; j < u2; j++) {
        mu2[q * u2 + j] = mu2[q * u2 + j]! + c * v.kernel2[i * u2 + j]!;
        r2[q * u2 + j] = r2[q * u2 + j]! + h * v.absKernel2[i * u2 + j]!;
      }
    }
  }
  const ms = marginShapes(s);
  const sizes = tableSizes(ms);
  const [pTab, nTab, eTab] = [new Float32Array(sizes.tab), new Float32Array(sizes.tab), new Float32Array(sizes.e)];
  fillTables(ms, v.kernel, v.bias, labels, pTab, nTab, eTab);
  marginsLoop(ms, new Float32Array(rows * u2), mu2, r2, labels, Int32Array.of(0), pTab, nTab, eTab, out);
}

const FLOATS = NAMES.filter((n) => n !== 'labels') as Exclude<(typeof NAMES)[number], 'labels'>[];

function reluDenseReluMarginsCpu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const { infos, s } = checkArgs(args);
  const values = (info: tf.TensorInfo) => backend.data.get(info.dataId).values!;
  const labels = values(infos.labels) as Int32Array;
  checkIndices(labels, s.classes, 'labels', PcReluDenseReluMargins);
  const v = Object.fromEntries(FLOATS.map((n) => [n, values(infos[n]) as Float32Array])) as Record<(typeof FLOATS)[number], Float32Array>;
  const out = new Float32Array(s.rows * s.classes);
  fusedLoop(s, v, labels, out);
  return backend.makeTensorInfo([s.rows, s.classes], 'float32', out);
}

function reluDenseReluMarginsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { infos, s } = checkArgs(args);
  const ms = marginShapes(s);
  const out = backend.makeOutput([s.rows, s.classes], 'float32');
  // Scratch: the three tables; the margin loop's packing table and five row buffers (u2 units),
  // then this loop's five buffers of u1 units and five of u2.
  const scratchFloats = 64 + 5 * (s.u2 + 4) + 5 * (s.u1 + 4) + 5 * (s.u2 + 4);
  fillOutputs(backend, [out], [...tableTemps(ms), [scratchFloats, 'float32']], (temps) => {
    const f32 = (info: tf.TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
    const labels = backend.typedArrayFromHeap(infos.labels) as Int32Array;
    checkIndices(labels, s.classes, 'labels', PcReluDenseReluMargins);
    const v = Object.fromEntries(FLOATS.map((n) => [n, f32(infos[n])])) as Record<(typeof FLOATS)[number], Float32Array>;
    const o = f32(out);
    const module = patchcertWasm(backend);
    if (module === undefined) {
      fusedLoop(s, v, labels, o);
      return;
    }
    const [pTab, nTab, eTab, scratch] = temps.map(f32) as [Float32Array, Float32Array, Float32Array, Float32Array];
    fillTables(ms, v.kernel, v.bias, labels, pTab, nTab, eTab);
    module.reluDenseReluMargins(
      v.mu.byteOffset, v.r.byteOffset, v.kernel2.byteOffset, v.absKernel2.byteOffset, v.bias2.byteOffset, labels.byteOffset,
      pTab.byteOffset, nTab.byteOffset, eTab.byteOffset, o.byteOffset, scratch.byteOffset,
      s.rows, s.u1, s.u2, s.classes,
    );
  });
  return out;
}

/** wasm {@link PcReluDenseReluMargins}: one SIMD loop of patchcert's module. */
export const reluDenseReluMarginsWasmConfig: tf.KernelConfig = { kernelName: PcReluDenseReluMargins, backendName: 'wasm', kernelFunc: reluDenseReluMarginsWasm as unknown as tf.KernelFunc };

/** cpu {@link PcReluDenseReluMargins}: the same rule as a JavaScript loop. */
export const reluDenseReluMarginsCpuConfig: tf.KernelConfig = { kernelName: PcReluDenseReluMargins, backendName: 'cpu', kernelFunc: reluDenseReluMarginsCpu as unknown as tf.KernelFunc };
