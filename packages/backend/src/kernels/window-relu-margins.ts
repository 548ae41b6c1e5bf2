// PcWindowReluMargins on wasm and cpu: PcWindowSums and PcReluElidedMargins in one pass, for
// bounds' one-hidden-layer MLP path. Composed, windowSums wrote each row's hidden center change
// and radius to [batch, count, units] tensors (~24 MB per 32 MNIST images at 2×2) that the
// margins kernel read back: in an all-patch training step that traffic cost more than the
// arithmetic. Fused, a row's sums stay in a few kilobytes of scratch.
import type { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { PcWindowReluMargins, type PcWindowReluMarginsAttrs } from '../kernel-names.js';
import { fillOutputs, type KernelArgs, type WasmBackend } from './wasm/wasm-backend.js';
import type { CpuBackend } from './host-kernel.js';
import { patchcertWasm } from './wasm/patchcert-module.js';
import { checkIndices, fillTables, marginsLoop, tableSizes, tableTemps, type Shapes as MarginShapes } from './relu-elided-margins.js';
import { checkOrigins, sumsLoop } from './window-sums.js';

interface Shapes {
  taps: number[];
  batch: number;
  features: number;
  units: number;
  classes: number;
  count: number;
  coefShared: boolean;
  radShared: boolean;
  originsShared: boolean;
}

const FLOAT_INPUTS = ['coef', 'weights', 'radCoef', 'absWeights', 'base', 'kernel', 'bias'] as const;
type Infos = Record<(typeof FLOAT_INPUTS)[number] | 'origins' | 'labels', tf.TensorInfo>;

/** Validates inputs and attributes; throws PatchcertError naming the input and what is expected. */
function checkArgs(args: KernelArgs): { infos: Infos; s: Shapes } {
  const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH', what: string) => new PatchcertError(code, `Error in ${PcWindowReluMargins}: ${what}.`);
  const infos = {} as Infos;
  for (const name of [...FLOAT_INPUTS, 'origins', 'labels'] as const) {
    const info = args.inputs[name];
    if (info === undefined) throw fail('INVALID_ARGUMENT', `input '${name}' must be given, but got none`);
    const dtype = name === 'origins' || name === 'labels' ? 'int32' : 'float32';
    if (info.dtype !== dtype) throw fail('INVALID_ARGUMENT', `input '${name}' must be ${dtype}, but got ${info.dtype}`);
    infos[name] = info;
  }
  const shape = (n: keyof Infos) => `[${infos[n].shape.join(',')}]`;
  const eq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  const [features, units] = infos.weights.shape as [number, number];
  if (infos.weights.shape.length !== 2) throw fail('SHAPE_MISMATCH', `'weights' must be [features, units], but got ${shape('weights')}`);
  if (!eq(infos.absWeights.shape, [features, units])) throw fail('SHAPE_MISMATCH', `'absWeights' must be [${features},${units}] like 'weights', but got ${shape('absWeights')}`);
  const [batch] = infos.base.shape as [number];
  if (!eq(infos.base.shape, [batch, units])) throw fail('SHAPE_MISMATCH', `'base' must be [batch, ${units}], but got ${shape('base')}`);
  for (const name of ['coef', 'radCoef'] as const) {
    if (!eq(infos[name].shape, [batch, features]) && !eq(infos[name].shape, [1, features])) throw fail('SHAPE_MISMATCH', `'${name}' must be [${batch},${features}] or [1,${features}], but got ${shape(name)}`);
  }
  const [rows, count] = infos.origins.shape as [number, number];
  if (infos.origins.shape.length !== 2 || (rows !== 1 && rows !== batch)) throw fail('SHAPE_MISMATCH', `'origins' must be [${batch}, count] or [1, count], but got ${shape('origins')}`);
  const classes = infos.kernel.shape[1]!;
  if (!eq(infos.kernel.shape, [units, classes])) throw fail('SHAPE_MISMATCH', `'kernel' must be [${units}, classes], but got ${shape('kernel')}`);
  if (!eq(infos.bias.shape, [classes])) throw fail('SHAPE_MISMATCH', `'bias' must be [${classes}], but got ${shape('bias')}`);
  if (!eq(infos.labels.shape, [batch])) throw fail('SHAPE_MISMATCH', `'labels' must be [${batch}], but got ${shape('labels')}`);
  const { taps } = (args.attrs ?? {}) as unknown as PcWindowReluMarginsAttrs;
  if (!Array.isArray(taps) && !ArrayBuffer.isView(taps)) throw fail('INVALID_ARGUMENT', 'taps must be an array of feature offsets');
  for (const t of taps) if (!Number.isInteger(t) || t < 0) throw fail('INVALID_ARGUMENT', `taps must be non-negative integers, but got ${t}`);
  const shared = (n: number) => n === 1 && batch !== 1;
  return {
    infos,
    s: { taps: Array.from(taps), batch, features, units, classes, count, coefShared: shared(infos.coef.shape[0]!), radShared: shared(infos.radCoef.shape[0]!), originsShared: shared(rows) },
  };
}

/** The margin kernel's view of these rows: row q of image b is location q. */
const marginShapes = (s: Shapes): MarginShapes => ({ batch: s.batch, total: s.count, units: s.units, classes: s.classes, radShared: false, locsShared: true, count: s.count });

/** The loop in JavaScript (cpu, and wasm where patchcert's module cannot run): the two kernels' loops in turn. */
function fusedLoop(s: Shapes, v: Record<(typeof FLOAT_INPUTS)[number], Float32Array>, origins: Int32Array, labels: Int32Array, out: Float32Array): void {
  const sums = (coef: Float32Array, weights: Float32Array, coefShared: boolean) => {
    const o = new Float32Array(s.batch * s.count * s.units);
    sumsLoop({ taps: s.taps, batch: s.batch, features: s.features, units: s.units, count: s.count, coefShared, originsShared: s.originsShared }, coef, weights, origins, o);
    return o;
  };
  const ms = marginShapes(s);
  const sizes = tableSizes(ms);
  const [pTab, nTab, eTab] = [new Float32Array(sizes.tab), new Float32Array(sizes.tab), new Float32Array(sizes.e)];
  fillTables(ms, v.kernel, v.bias, labels, pTab, nTab, eTab);
  const rows = Int32Array.from({ length: s.count }, (_, i) => i);
  marginsLoop(ms, sums(v.coef, v.weights, s.coefShared), v.base, sums(v.radCoef, v.absWeights, s.radShared), labels, rows, pTab, nTab, eTab, out);
}

function windowReluMarginsCpu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const { infos, s } = checkArgs(args);
  const values = (info: tf.TensorInfo) => backend.data.get(info.dataId).values!;
  const origins = values(infos.origins) as Int32Array;
  const labels = values(infos.labels) as Int32Array;
  checkOrigins(s, origins, PcWindowReluMargins);
  checkIndices(labels, s.classes, 'labels', PcWindowReluMargins);
  const v = Object.fromEntries(FLOAT_INPUTS.map((n) => [n, values(infos[n]) as Float32Array])) as Record<(typeof FLOAT_INPUTS)[number], Float32Array>;
  const out = new Float32Array(s.batch * s.count * s.classes);
  fusedLoop(s, v, origins, labels, out);
  return backend.makeTensorInfo([s.batch, s.count, s.classes], 'float32', out);
}

function windowReluMarginsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { infos, s } = checkArgs(args);
  const ms = marginShapes(s);
  const out = backend.makeOutput([s.batch, s.count, s.classes], 'float32');
  // Scratch: the three tables; the margin loop's packing table and five row buffers, then this
  // loop's four rows, then, when no image has radii or windows of its own, every window's radius
  // row (summed once); the taps.
  const scratchFloats = 64 + 9 * (s.units + 4) + (s.radShared && s.originsShared ? s.count * s.units : 0);
  fillOutputs(backend, [out], [...tableTemps(ms), [scratchFloats, 'float32'], [s.taps.length, 'int32']], (temps) => {
    const f32 = (info: tf.TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
    const origins = backend.typedArrayFromHeap(infos.origins) as Int32Array;
    const labels = backend.typedArrayFromHeap(infos.labels) as Int32Array;
    checkOrigins(s, origins, PcWindowReluMargins);
    checkIndices(labels, s.classes, 'labels', PcWindowReluMargins);
    const v = Object.fromEntries(FLOAT_INPUTS.map((n) => [n, f32(infos[n])])) as Record<(typeof FLOAT_INPUTS)[number], Float32Array>;
    const o = f32(out);
    const module = patchcertWasm(backend);
    if (module === undefined) {
      fusedLoop(s, v, origins, labels, o);
      return;
    }
    const [pTab, nTab, eTab, scratch] = temps.slice(0, 4).map(f32) as [Float32Array, Float32Array, Float32Array, Float32Array];
    fillTables(ms, v.kernel, v.bias, labels, pTab, nTab, eTab);
    const taps = backend.typedArrayFromHeap(temps[4]!) as Int32Array;
    taps.set(s.taps);
    module.windowReluMargins(
      v.coef.byteOffset, s.coefShared ? 1 : 0, v.weights.byteOffset, v.radCoef.byteOffset, s.radShared ? 1 : 0, v.absWeights.byteOffset,
      origins.byteOffset, s.originsShared ? 1 : 0, taps.byteOffset, s.taps.length, v.base.byteOffset, labels.byteOffset,
      pTab.byteOffset, nTab.byteOffset, eTab.byteOffset, o.byteOffset, scratch.byteOffset,
      s.batch, s.features, s.count, s.units, s.classes,
    );
  });
  return out;
}

/** wasm {@link PcWindowReluMargins}: one SIMD loop of patchcert's module. */
export const windowReluMarginsWasmConfig: tf.KernelConfig = { kernelName: PcWindowReluMargins, backendName: 'wasm', kernelFunc: windowReluMarginsWasm as unknown as tf.KernelFunc };

/** cpu {@link PcWindowReluMargins}: the two JavaScript loops in turn. */
export const windowReluMarginsCpuConfig: tf.KernelConfig = { kernelName: PcWindowReluMargins, backendName: 'cpu', kernelFunc: windowReluMarginsCpu as unknown as tf.KernelFunc };
