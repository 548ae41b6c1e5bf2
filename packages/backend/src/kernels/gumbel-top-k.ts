// PcGumbelTopK on wasm and cpu (see kernel-names.ts): guided sampling's draw, k cells per image
// and class from softmax(−T·score) with Gumbel-top-k. The loop below is the rule; wasm runs the
// same loop from patchcert's module (assembly/gumbel-top-k.ts), generating the words itself, so
// a draw neither copies the score map out of the heap nor makes words in JavaScript first.
import { tf } from '../tf.js';
import { PatchcertError } from '../errors.js';
import { Rng } from '../rng.js';
import { PcGumbelTopK, type PcGumbelTopKAttrs } from '../kernel-names.js';
import type { KernelArgs, WasmBackend } from './wasm/wasm-backend.js';
import { fillOutputs } from './wasm/wasm-backend.js';
import type { CpuBackend } from './host-kernel.js';
import { patchcertWasm } from './wasm/patchcert-module.js';

/** A standard Gumbel draw from 32 random bits, −log(−log u) with u strictly inside (0, 1). */
export function gumbelOf(bits: number): number {
  const u = (bits + 0.5) / 4294967296;
  return -Math.log(-Math.log(u));
}

/** Draws share a bucket when their top 10 bits agree (assembly/gumbel-top-k.ts uses the same). */
const BUCKET_SHIFT = 22;
/**
 * Absorbs rounding in the bound (far above the last-bit error of a key while |key| < 1e9); it
 * only lets more cells through to the exact key, so it never changes a pick.
 */
const BOUND_SLACK = 1e-6;
/** The largest Gumbel draw of each bucket (the draw is increasing in the bits). */
const BUCKET_MAX = Float64Array.from({ length: 2 ** (32 - BUCKET_SHIFT) }, (_, b) => gumbelOf((b + 1) * 2 ** BUCKET_SHIFT - 1));

/** Puts (key, cell) into slot `from` or before it, keeping `keys` sorted descending (the last drops out). */
function insertSorted(keys: Float64Array, idx: Int32Array, from: number, key: number, cell: number): void {
  let p = from;
  while (p > 0 && keys[p - 1]! < key) {
    keys[p] = keys[p - 1]!;
    idx[p] = idx[p - 1]!;
    p--;
  }
  keys[p] = key;
  idx[p] = cell;
}

/**
 * The draw: for every image n and class j, the k cells with the largest
 * −temperature·scores[n, cell, j] + gumbelOf(word), largest first, into `picks`
 * `[batch, classes, k]`. `fill` gives the next words, classes·cells per image (class-major).
 * Most cells cannot enter the top k: an upper bound of their Gumbel draw from a table rules them
 * out without the two logs, giving the same picks as computing every key.
 */
export function gumbelTopKLoop(
  scores: ArrayLike<number>, batch: number, cells: number, classes: number, k: number, temperature: number,
  fill: (words: Uint32Array) => void, picks: Int32Array,
): void {
  const keys = new Float64Array(k);
  const idx = new Int32Array(k);
  const noise = new Uint32Array(classes * cells);
  let out = 0;
  for (let n = 0; n < batch; n++) {
    fill(noise);
    for (let j = 0; j < classes; j++) {
      // The k largest keys in a small array sorted descending; `kth` is the k-th once k are kept.
      let filled = 0;
      let kth = -Infinity;
      const noiseRow = j * cells;
      let at = n * cells * classes + j;
      for (let cell = 0; cell < cells; cell++, at += classes) {
        const a = -temperature * scores[at]!;
        const bits = noise[noiseRow + cell]!;
        if (a + BUCKET_MAX[bits >>> BUCKET_SHIFT]! + BOUND_SLACK < kth) continue;
        const key = a + gumbelOf(bits);
        if (filled < k) {
          insertSorted(keys, idx, filled++, key, cell);
          if (filled === k) kth = keys[k - 1]!;
        } else if (key > kth) {
          insertSorted(keys, idx, k - 1, key, cell);
          kth = keys[k - 1]!;
        }
      }
      for (let d = 0; d < k; d++) picks[out++] = idx[d]!;
    }
  }
}

interface Args {
  scores: tf.TensorInfo;
  words: tf.TensorInfo | undefined;
  state: tf.TensorInfo | undefined;
  batch: number;
  cells: number;
  classes: number;
  k: number;
  temperature: number;
}

function checkArgs(args: KernelArgs): Args {
  const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH', what: string) => new PatchcertError(code, `Error in ${PcGumbelTopK}: ${what}.`);
  const { scores, words, state } = args.inputs;
  if (scores === undefined || scores.dtype !== 'float32' || scores.shape.length !== 3) throw fail('INVALID_ARGUMENT', `'scores' must be float32 [batch, cells, classes], but got ${scores ? `${scores.dtype} [${scores.shape.join(',')}]` : 'none'}`);
  const [batch, cells, classes] = scores.shape as [number, number, number];
  if ((words === undefined) === (state === undefined)) throw fail('INVALID_ARGUMENT', "exactly one of 'words' and 'state' must be given");
  if (words !== undefined && (words.dtype !== 'int32' || !tf.util.arraysEqual(words.shape, [batch, classes, cells]))) {
    throw fail('SHAPE_MISMATCH', `'words' must be int32 [${batch}, ${classes}, ${cells}], but got ${words.dtype} [${words.shape.join(',')}]`);
  }
  if (state !== undefined && (state.dtype !== 'int32' || !tf.util.arraysEqual(state.shape, [4]))) throw fail('SHAPE_MISMATCH', `'state' must be int32 [4], but got ${state.dtype} [${state.shape.join(',')}]`);
  const { k, temperature } = (args.attrs ?? {}) as unknown as PcGumbelTopKAttrs;
  if (!Number.isInteger(k) || k < 1 || k > cells) throw fail('INVALID_ARGUMENT', `k must be an integer in [1, ${cells}], but got ${k}`);
  if (!Number.isFinite(temperature)) throw fail('INVALID_ARGUMENT', `temperature must be finite, but got ${temperature}`);
  return { scores, words, state, batch, cells, classes, k, temperature };
}

/** `fill` for the loop: consecutive slices of `words`, or a generator started at `state`. */
function wordSource(words: Int32Array | undefined, state: Int32Array | undefined): { fill: (out: Uint32Array) => void; rng: Rng | null } {
  if (words !== undefined) {
    const bits = new Uint32Array(words.buffer, words.byteOffset, words.length);
    let at = 0;
    return { fill: (out) => { out.set(bits.subarray(at, at + out.length)); at += out.length; }, rng: null };
  }
  const rng = Rng.fromState({ s: Array.from(state!, (v) => v >>> 0) as [number, number, number, number] });
  return { fill: (out) => rng.fillU32(out), rng };
}

function gumbelTopKCpu(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as CpuBackend;
  const a = checkArgs(args);
  const read = (t: tf.TensorInfo | undefined) => (t === undefined ? undefined : (backend.data.get(t.dataId).values as Int32Array));
  const stateIn = read(a.state);
  const source = wordSource(read(a.words), stateIn);
  const picks = new Int32Array(a.batch * a.classes * a.k);
  gumbelTopKLoop(backend.data.get(a.scores.dataId).values as Float32Array, a.batch, a.cells, a.classes, a.k, a.temperature, source.fill, picks);
  const next = source.rng ? Int32Array.from(source.rng.getState().s) : new Int32Array(4);
  return [backend.makeTensorInfo([a.batch, a.classes, a.k], 'int32', picks), backend.makeTensorInfo([4], 'int32', next)];
}

function gumbelTopKWasm(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackend;
  const a = checkArgs(args);
  const picks = backend.makeOutput([a.batch, a.classes, a.k], 'int32');
  const next = backend.makeOutput([4], 'int32');
  const outputs = [picks, next];
  const module = patchcertWasm(backend);
  // Scratch: the bucket table (f64, 8-byte aligned as the heap's allocations are), k keys and k cells.
  fillOutputs(backend, outputs, [[2 * BUCKET_MAX.length, 'float32'], [3 * a.k, 'float32']], ([table, scratch]) => {
    const view = <T extends tf.TypedArray>(t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as T;
    const stateIn = a.state === undefined ? undefined : view<Int32Array>(a.state);
    const words = a.words === undefined ? undefined : view<Int32Array>(a.words);
    const nextView = view<Int32Array>(next);
    if (stateIn) nextView.set(stateIn);
    else nextView.fill(0);
    const tableView = view<Float32Array>(table!);
    if (module === undefined || tableView.byteOffset % 8 !== 0) {
      const source = wordSource(words, stateIn);
      gumbelTopKLoop(view<Float32Array>(a.scores), a.batch, a.cells, a.classes, a.k, a.temperature, source.fill, view<Int32Array>(picks));
      if (source.rng) nextView.set(source.rng.getState().s);
      return;
    }
    new Float64Array(tableView.buffer, tableView.byteOffset, BUCKET_MAX.length).set(BUCKET_MAX);
    module.gumbelTopK(
      view(a.scores).byteOffset, words?.byteOffset ?? 0, nextView.byteOffset, tableView.byteOffset, view(picks).byteOffset, view(scratch!).byteOffset,
      a.batch, a.cells, a.classes, a.k, a.temperature, words === undefined,
    );
  });
  return outputs;
}

/** wasm {@link PcGumbelTopK}: the loop of patchcert's module (the JavaScript loop without it). */
export const gumbelTopKWasmConfig: tf.KernelConfig = { kernelName: PcGumbelTopK, backendName: 'wasm', kernelFunc: gumbelTopKWasm as unknown as tf.KernelFunc };

/** cpu {@link PcGumbelTopK}: the JavaScript loop. */
export const gumbelTopKCpuConfig: tf.KernelConfig = { kernelName: PcGumbelTopK, backendName: 'cpu', kernelFunc: gumbelTopKCpu as unknown as tf.KernelFunc };
