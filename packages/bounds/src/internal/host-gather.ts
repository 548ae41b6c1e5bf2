import { tf, PcGatherRuns, PcScatterAddRuns } from '@patchcert/backend';

/**
 * Runs of floats to copy into one output: run q copies `len[q]` floats of source `src[q]` from
 * float offset `off[q]`, after `skip[q]` zeros; runs follow each other, and the output ends with
 * zeros. The layout of backend's PcGatherRuns kernel.
 */
export interface Runs {
  src: Uint8Array;
  off: Int32Array;
  len: Int32Array;
  skip: Int32Array;
  count: number;
}

/** patchcert's run-copy kernel and its gradient (registered by initBackend on wasm and cpu). */
const GATHER_RUNS = PcGatherRuns;
const SCATTER_ADD_RUNS = PcScatterAddRuns;

/**
 * The `size` floats that `runs` describe over `sources`, as a flat tensor: with the backend's
 * PcGatherRuns kernel where it is registered (a copy on the backend's memory), else on the host.
 */
export function copyRuns(sources: tf.Tensor[], runs: Runs, size: number): tf.Tensor1D {
  if (tf.getKernel(GATHER_RUNS, tf.getBackend()) !== undefined) {
    const inputs: tf.NamedTensorMap = {};
    sources.forEach((s, i) => (inputs[`s${i}`] = s));
    return tf.engine().runKernel(GATHER_RUNS, inputs, { ...runs, size } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
  }
  const data = sources.map((s) => s.dataSync() as Float32Array);
  const out = new Float32Array(size);
  for (let q = 0, o = 0; q < runs.count; q++) {
    const d = data[runs.src[q]!]!;
    o += runs.skip[q]!;
    for (let s = runs.off[q]!, end = o + runs.len[q]!; o < end; ) out[o++] = d[s++]!;
  }
  return tf.tensor1d(out);
}

/**
 * The gradient of {@link copyRuns}: per source (`sizes[i]` floats), the sum of `dy` over every
 * run that read it; with the backend's PcScatterAddRuns kernel where it is registered.
 */
function scatterAddRuns(dy: tf.Tensor, runs: Runs, sizes: number[]): tf.Tensor[] {
  if (tf.getKernel(SCATTER_ADD_RUNS, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(SCATTER_ADD_RUNS, { dy }, { ...runs, sizes } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  }
  const g = dy.dataSync() as Float32Array;
  const grads = sizes.map((n) => new Float32Array(n));
  for (let q = 0, o = 0; q < runs.count; q++) {
    const d = grads[runs.src[q]!]!;
    o += runs.skip[q]!;
    for (let s = runs.off[q]!, end = o + runs.len[q]!; o < end; ) d[s++]! += g[o++]!;
  }
  return grads.map((d) => tf.tensor1d(d));
}

/**
 * Rows `idx` of the row-wise concatenation of `sources` (all `[·, ch]` or reshapeable to it,
 * same ch), as `[idx.length, ch]` (index −1: a zero row, e.g. a clean cell's radius), copied
 * with {@link copyRuns}, with a host scatter-add as the gradient for every source. The index
 * tables of the window plans are constants, and tfjs-wasm's GatherV2 (plus the concat it needs)
 * was ~70 % of a pooled CNN training step; this copy is a few ms.
 */
export function gatherSources(sources: tf.Tensor[], idx: Int32Array): tf.Tensor2D {
  const a0 = sources[0]!;
  const ch = a0.shape[a0.rank - 1]!;
  const starts = [0];
  for (const s of sources) starts.push(starts[starts.length - 1]! + s.size / ch);
  // The table as runs of rows that are consecutive in one source (a region's rows of cells are
  // consecutive in the map), so the copies are a few long loops, not one per index.
  const runs: Runs = { src: new Uint8Array(idx.length), off: new Int32Array(idx.length), len: new Int32Array(idx.length), skip: new Int32Array(idx.length), count: 0 };
  let skipped = 0;
  for (let e = 0, end = -1; e < idx.length; e++) {
    const t = idx[e]!;
    if (t < 0) {
      skipped += ch;
      continue;
    }
    if (runs.count > 0 && skipped === 0 && t === idx[e - 1]! + 1 && t < end) {
      runs.len[runs.count - 1]! += ch;
      continue;
    }
    let src = 0;
    while (t >= starts[src + 1]!) src++;
    end = starts[src + 1]!;
    runs.src[runs.count] = src;
    runs.off[runs.count] = (t - starts[src]!) * ch;
    runs.skip[runs.count] = skipped;
    runs.len[runs.count++] = ch;
    skipped = 0;
  }
  const fn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.reshape(copyRuns(args.slice(0, sources.length) as tf.Tensor[], runs, idx.length * ch), [idx.length, ch]) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor) => scatterAddRuns(dy, runs, sources.map((s) => s.size)).map((g, i) => tf.reshape(g, sources[i]!.shape)),
  }));
  return fn(...sources) as tf.Tensor2D;
}

/** Rows `idx` of `[a; b]` (index < rows of a: a's row; else b's row `idx − rows(a)`); see {@link gatherSources}. */
export function gatherTwo(a: tf.Tensor, b: tf.Tensor, idx: Int32Array): tf.Tensor2D {
  return gatherSources([a, b], idx);
}

/** Rows `idx` of `a` (`[·, ch]`; −1: a zero row); see {@link gatherSources}. */
export function gatherRows(a: tf.Tensor, idx: Int32Array): tf.Tensor2D {
  return gatherSources([a], idx);
}
