// PcReluElidedMargins on wasm and cpu: the last two steps of an IBP bound (ReLU box, then the
// elided margin layer) for every location of a batch in one pass. Composed from stock ops these
// steps were an add, the ReLU kernel, two [rows, units]·[units, classes] matmuls per label run and
// a few elementwise ops, ~70% of MLP certification; fused, each row is read once and a unit that
// is inactive over its whole box costs one compare (most units of a trained network).
import type { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { PcReluElidedMargins } from '../kernel-names.js';
import { fillOutputs, type KernelArgs, type WasmBackend } from './wasm/wasm-backend.js';
import type { CpuBackend } from './host-kernel.js';
import { patchcertWasm } from './wasm/patchcert-module.js';

/** Class columns per table block (the wasm loop's three 4-lane accumulators). */
const BLOCK = 12;

/** Shapes of a PcReluElidedMargins call (PcWindowReluMargins builds the same for its rows). */
export interface Shapes {
  batch: number;
  total: number;
  units: number;
  classes: number;
  radShared: boolean;
  locsShared: boolean;
  count: number;
}

const NAMES = ['delta', 'base', 'rad', 'kernel', 'bias', 'labels', 'locs'] as const;

/** Validates inputs and attributes; throws PatchcertError naming the input and what is expected. */
function checkArgs(args: KernelArgs): { infos: Record<(typeof NAMES)[number], tf.TensorInfo>; s: Shapes } {
  const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH', what: string) => new PatchcertError(code, `Error in ${PcReluElidedMargins}: ${what}.`);
  const infos = {} as Record<(typeof NAMES)[number], tf.TensorInfo>;
  for (const name of NAMES) {
    const info = args.inputs[name];
    if (info === undefined) throw fail('INVALID_ARGUMENT', `input '${name}' must be given, but got none`);
    const dtype = name === 'labels' || name === 'locs' ? 'int32' : 'float32';
    if (info.dtype !== dtype) throw fail('INVALID_ARGUMENT', `input '${name}' must be ${dtype}, but got ${info.dtype}`);
    infos[name] = info;
  }
  const shape = (n: (typeof NAMES)[number]) => `[${infos[n].shape.join(',')}]`;
  const [batch, total, units] = infos.delta.shape as [number, number, number];
  if (infos.delta.shape.length !== 3) throw fail('SHAPE_MISMATCH', `'delta' must be [batch, locations, units], but got ${shape('delta')}`);
  const classes = infos.kernel.shape[1]!;
  const eq = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (!eq(infos.base.shape, [batch, units])) throw fail('SHAPE_MISMATCH', `'base' must be [${batch},${units}], but got ${shape('base')}`);
  const radShared = eq(infos.rad.shape, [1, total, units]) && batch !== 1;
  if (!radShared && !eq(infos.rad.shape, [batch, total, units])) throw fail('SHAPE_MISMATCH', `'rad' must be [${batch},${total},${units}] or [1,${total},${units}], but got ${shape('rad')}`);
  if (infos.kernel.shape.length !== 2 || infos.kernel.shape[0] !== units) throw fail('SHAPE_MISMATCH', `'kernel' must be [${units}, classes], but got ${shape('kernel')}`);
  if (!eq(infos.bias.shape, [classes])) throw fail('SHAPE_MISMATCH', `'bias' must be [${classes}], but got ${shape('bias')}`);
  if (!eq(infos.labels.shape, [batch])) throw fail('SHAPE_MISMATCH', `'labels' must be [${batch}], but got ${shape('labels')}`);
  const [rows, count] = infos.locs.shape as [number, number];
  if (infos.locs.shape.length !== 2 || (rows !== 1 && rows !== batch)) throw fail('SHAPE_MISMATCH', `'locs' must be [${batch}, count] or [1, count], but got ${shape('locs')}`);
  return { infos, s: { batch, total, units, classes, radShared, locsShared: rows === 1 && batch !== 1, count } };
}

/** Checks that every entry of `values` (input `name`) lies in [0, limit). */
export function checkIndices(values: Int32Array, limit: number, name: string, kernel: string = PcReluElidedMargins): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= 0 && v < limit)) throw new PatchcertError('INVALID_ARGUMENT', `Error in ${kernel}: ${name} must be in [0, ${limit - 1}], but got ${v} at ${i}.`);
  }
}

/** Sizes of the per-label tables: P_y and N_y `[classes, blocks, units, 12]`, e_y `[classes, blocks, 12]`. */
export function tableSizes(s: Shapes): { blocks: number; tab: number; e: number } {
  const blocks = Math.ceil(s.classes / BLOCK);
  return { blocks, tab: s.classes * blocks * s.units * BLOCK, e: s.classes * blocks * BLOCK };
}

/** Scratch specs of the three tables, for fillOutputs (wasm kernels that end in the margin loop). */
export function tableTemps(s: Shapes): Array<readonly [number, 'float32']> {
  const { tab, e } = tableSizes(s);
  return [[tab, 'float32'], [tab, 'float32'], [e, 'float32']];
}

/**
 * Fills the tables of the labels in `labels` (the loops read no other): with
 * D_y[i, j] = W[i, y] − W[i, j], P_y = max(D_y, 0) and N_y = min(D_y, 0) (a unit's lowest term
 * over its ReLU box [lo, hi] is lo·P + hi·N), and e_y[j] = b_y − b_j; zero-padded to blocks of 12
 * classes. A certify pass holds one label run, so this is one label's table, not all of them.
 */
export function fillTables(s: Shapes, w: Float32Array, bias: Float32Array, labels: Int32Array, pTab: Float32Array, nTab: Float32Array, eTab: Float32Array): void {
  const { blocks } = tableSizes(s);
  const { units, classes } = s;
  const padded = blocks * BLOCK;
  const done = new Uint8Array(classes);
  for (const y of labels) {
    if (done[y]) continue;
    done[y] = 1;
    for (let j = 0; j < padded; j++) eTab[y * padded + j] = j < classes ? Math.fround(bias[y]! - bias[j]!) : 0;
    // In the tables' own order (block, unit, class in block), each weight row read once.
    let t = y * blocks * units * BLOCK;
    for (let k = 0; k < blocks; k++) {
      for (let i = 0; i < units; i++) {
        const row = i * classes;
        const wy = w[row + y]!;
        for (let jj = 0; jj < BLOCK; jj++, t++) {
          const j = k * BLOCK + jj;
          const d = j < classes ? Math.fround(wy - w[row + j]!) : 0;
          pTab[t] = d > 0 ? d : 0;
          nTab[t] = d < 0 ? d : 0;
        }
      }
    }
  }
}

/** The loop in JavaScript (cpu, and wasm where patchcert's module cannot run); same rule as the wasm one. */
export function marginsLoop(s: Shapes, delta: Float32Array, base: Float32Array, rad: Float32Array, labels: Int32Array, locs: Int32Array, pTab: Float32Array, nTab: Float32Array, eTab: Float32Array, out: Float32Array): void {
  const { batch, total, units, classes, count } = s;
  const { blocks } = tableSizes(s);
  const acc = new Float32Array(BLOCK);
  for (let b = 0; b < batch; b++) {
    const y = labels[b]!;
    for (let q = 0; q < count; q++) {
      const l = locs[(s.locsShared ? 0 : b * count) + q]!;
      const d0 = (b * total + l) * units;
      const r0 = ((s.radShared ? 0 : b * total) + l) * units;
      const o0 = (b * count + q) * classes;
      for (let k = 0; k < blocks; k++) {
        const e0 = (y * blocks + k) * BLOCK;
        for (let jj = 0; jj < BLOCK; jj++) acc[jj] = eTab[e0 + jj]!;
        let t = (y * blocks + k) * units * BLOCK;
        for (let i = 0; i < units; i++, t += BLOCK) {
          const m = Math.fround(base[b * units + i]! + delta[d0 + i]!);
          const r = rad[r0 + i]!;
          const u = Math.fround(m + r);
          // Inactive over its whole box (hi = lo = 0): no term. NaN goes on and reaches the output.
          if (u <= 0) continue;
          const lo = Math.max(Math.fround(m - r), 0);
          for (let jj = 0; jj < BLOCK; jj++) acc[jj] = acc[jj]! + (lo * pTab[t + jj]! + u * nTab[t + jj]!);
        }
        for (let jj = 0; jj < BLOCK && k * BLOCK + jj < classes; jj++) out[o0 + k * BLOCK + jj] = acc[jj]!;
      }
      out[o0 + y] = 0;
    }
  }
}

function reluElidedMarginsCpu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as CpuBackend;
  const { infos, s } = checkArgs(args);
  const read = (info: tf.TensorInfo) => backend.data.get(info.dataId).values as Float32Array;
  const labels = backend.data.get(infos.labels.dataId).values as Int32Array;
  const locs = backend.data.get(infos.locs.dataId).values as Int32Array;
  checkIndices(labels, s.classes, 'labels');
  checkIndices(locs, s.total, 'locs');
  const sizes = tableSizes(s);
  const [pTab, nTab, eTab] = [new Float32Array(sizes.tab), new Float32Array(sizes.tab), new Float32Array(sizes.e)];
  fillTables(s, read(infos.kernel), read(infos.bias), labels, pTab, nTab, eTab);
  const out = new Float32Array(s.batch * s.count * s.classes);
  marginsLoop(s, read(infos.delta), read(infos.base), read(infos.rad), labels, locs, pTab, nTab, eTab, out);
  return backend.makeTensorInfo([s.batch, s.count, s.classes], 'float32', out);
}

function reluElidedMarginsWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackend;
  const { infos, s } = checkArgs(args);
  const out = backend.makeOutput([s.batch, s.count, s.classes], 'float32');
  // Scratch: the three tables, then the loop's lane-packing table (64 floats) and a row pair's buffers (5).
  fillOutputs(backend, [out], [...tableTemps(s), [64 + 5 * (s.units + 4), 'float32']], (temps) => {
    const view = (info: tf.TensorInfo) => backend.typedArrayFromHeap(info) as Float32Array;
    const labels = backend.typedArrayFromHeap(infos.labels) as Int32Array;
    const locs = backend.typedArrayFromHeap(infos.locs) as Int32Array;
    checkIndices(labels, s.classes, 'labels');
    checkIndices(locs, s.total, 'locs');
    const [pTab, nTab, eTab, scratch] = temps.map(view) as [Float32Array, Float32Array, Float32Array, Float32Array];
    fillTables(s, view(infos.kernel), view(infos.bias), labels, pTab, nTab, eTab);
    const [delta, base, rad, o] = [view(infos.delta), view(infos.base), view(infos.rad), view(out)];
    const module = patchcertWasm(backend);
    if (module === undefined) {
      marginsLoop(s, delta, base, rad, labels, locs, pTab, nTab, eTab, o);
    } else {
      module.reluElidedMargins(
        delta.byteOffset, base.byteOffset, rad.byteOffset, s.radShared ? 1 : 0, labels.byteOffset, locs.byteOffset, s.locsShared ? 1 : 0,
        pTab.byteOffset, nTab.byteOffset, eTab.byteOffset, o.byteOffset, scratch.byteOffset,
        s.batch, s.total, s.count, s.units, s.classes,
      );
    }
  });
  return out;
}

/** wasm {@link PcReluElidedMargins}: one SIMD loop of patchcert's module over the wasm heap. */
export const reluElidedMarginsWasmConfig: tf.KernelConfig = { kernelName: PcReluElidedMargins, backendName: 'wasm', kernelFunc: reluElidedMarginsWasm as unknown as tf.KernelFunc };

/** cpu {@link PcReluElidedMargins}: the same rule as a JavaScript loop. */
export const reluElidedMarginsCpuConfig: tf.KernelConfig = { kernelName: PcReluElidedMargins, backendName: 'cpu', kernelFunc: reluElidedMarginsCpu as unknown as tf.KernelFunc };
