import { tf, PcGatherRuns, PcScatterAddRuns } from '@patchcert/backend';

/**
 * Runs of floats to copy into one output, `data` `[count, 4]` int32 (source, offset, length,
 * zeros before; entries past `count` unused): run q copies `length` floats of source `source`
 * from float `offset`, after `zeros` zeros; runs follow each other, and the output ends with
 * zeros. The layout of backend's PcGatherRuns kernel.
 */
export interface Runs {
  data: Int32Array;
  count: number;
}

/** Room for `capacity` runs. */
export function emptyRuns(capacity: number): Runs {
  return { data: new Int32Array(4 * capacity), count: 0 };
}

/** Appends a run; `runs` must have room for it. */
export function pushRun(runs: Runs, source: number, offset: number, length: number, zeros: number): void {
  const m = 4 * runs.count++;
  runs.data[m] = source;
  runs.data[m + 1] = offset;
  runs.data[m + 2] = length;
  runs.data[m + 3] = zeros;
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
    return tf.engine().runKernel(GATHER_RUNS, inputs, { runs: runs.data, count: runs.count, size } as unknown as tf.NamedAttrMap) as tf.Tensor1D;
  }
  const data = sources.map((s) => s.dataSync() as Float32Array);
  const out = new Float32Array(size);
  const r = runs.data;
  for (let m = 0, o = 0; m < 4 * runs.count; m += 4) {
    const d = data[r[m]!]!;
    o += r[m + 3]!;
    for (let s = r[m + 1]!, end = o + r[m + 2]!; o < end; ) out[o++] = d[s++]!;
  }
  return tf.tensor1d(out);
}

/**
 * The gradient of {@link copyRuns}: per source (`sizes[i]` floats), the sum of `dy` over every
 * run that read it; with the backend's PcScatterAddRuns kernel where it is registered.
 */
function scatterAddRuns(dy: tf.Tensor, runs: Runs, sizes: number[]): tf.Tensor[] {
  if (tf.getKernel(SCATTER_ADD_RUNS, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(SCATTER_ADD_RUNS, { dy }, { runs: runs.data, count: runs.count, sizes } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  }
  const g = dy.dataSync() as Float32Array;
  const grads = sizes.map((n) => new Float32Array(n));
  const r = runs.data;
  for (let m = 0, o = 0; m < 4 * runs.count; m += 4) {
    const d = grads[r[m]!]!;
    o += r[m + 3]!;
    for (let s = r[m + 1]!, end = o + r[m + 2]!; o < end; ) d[s++]! += g[o++]!;
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
  const runs = emptyRuns(idx.length);
  const r = runs.data;
  let skipped = 0;
  for (let e = 0, end = -1; e < idx.length; e++) {
    const t = idx[e]!;
    if (t < 0) {
      skipped += ch;
      continue;
    }
    if (runs.count > 0 && skipped === 0 && t === idx[e - 1]! + 1 && t < end) {
      r[4 * (runs.count - 1) + 2]! += ch;
      continue;
    }
    let src = 0;
    while (t >= starts[src + 1]!) src++;
    end = starts[src + 1]!;
    pushRun(runs, src, (t - starts[src]!) * ch, ch, skipped);
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
