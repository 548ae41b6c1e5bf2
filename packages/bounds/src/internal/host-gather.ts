import { tf } from '@patchcert/backend';

/**
 * Rows `idx` of the row-wise concatenation of `sources` (all `[·, ch]` or reshapeable to it,
 * same ch), as `[idx.length, ch]` (index −1: a zero row, e.g. a clean cell's radius), copied on the host, with a host scatter-add as the gradient
 * for every source. The index tables of the window plans are constants, and tfjs-wasm's GatherV2
 * (plus the concat it needs) was ~70 % of a pooled CNN training step; this copy is a few ms.
 */
function gatherSources(sources: tf.Tensor[], idx: Int32Array): tf.Tensor2D {
  const a0 = sources[0]!;
  const ch = a0.shape[a0.rank - 1]!;
  const starts = [0];
  for (const s of sources) starts.push(starts[starts.length - 1]! + s.size / ch);
  // The table as runs of rows that are consecutive in one source (a region's rows of cells are
  // consecutive in the map), so the copies below are a few long loops, not one per index.
  const runSrc = new Uint8Array(idx.length);
  const runOff = new Int32Array(idx.length);
  const runLen = new Int32Array(idx.length);
  const runSkip = new Int32Array(idx.length); // zero floats before the run
  let runs = 0;
  let skipped = 0;
  for (let e = 0, end = -1; e < idx.length; e++) {
    const t = idx[e]!;
    if (t < 0) {
      // A zero row: the output is zero-filled already; the destination offset carries over.
      skipped += ch;
      continue;
    }
    if (runs > 0 && skipped === 0 && t === idx[e - 1]! + 1 && t < end) {
      runLen[runs - 1]! += ch;
      continue;
    }
    let src = 0;
    while (t >= starts[src + 1]!) src++;
    end = starts[src + 1]!;
    runSrc[runs] = src;
    runOff[runs] = (t - starts[src]!) * ch;
    runSkip[runs] = skipped;
    runLen[runs++] = ch;
    skipped = 0;
  }
  const fn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const data = sources.map((_, i) => (args[i] as tf.Tensor).dataSync() as Float32Array);
    const out = new Float32Array(idx.length * ch);
    for (let q = 0, o = 0; q < runs; q++) {
      const d = data[runSrc[q]!]!;
      o += runSkip[q]!;
      for (let s = runOff[q]!, end = o + runLen[q]!; o < end; ) out[o++] = d[s++]!;
    }
    return {
      value: tf.tensor2d(out, [idx.length, ch]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const grads = sources.map((s) => new Float32Array(s.size));
        for (let q = 0, o = 0; q < runs; q++) {
          const d = grads[runSrc[q]!]!;
          o += runSkip[q]!;
          for (let s = runOff[q]!, end = o + runLen[q]!; o < end; ) d[s++]! += g[o++]!;
        }
        return sources.map((s, i) => tf.tensor(grads[i]!, s.shape));
      },
    };
  });
  return fn(...sources) as tf.Tensor2D;
}

/** Rows `idx` of `[a; b]` (index < rows of a: a's row; else b's row `idx − rows(a)`); see {@link gatherSources}. */
export function gatherTwo(a: tf.Tensor, b: tf.Tensor, idx: Int32Array): tf.Tensor2D {
  return gatherSources([a, b], idx);
}

/** Rows `idx` of `a` (`[·, ch]`); see {@link gatherSources}. */
export function gatherRows(a: tf.Tensor, idx: Int32Array): tf.Tensor2D {
  return gatherSources([a], idx);
}
