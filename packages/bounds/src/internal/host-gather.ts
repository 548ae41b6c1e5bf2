import { tf } from '@patchcert/backend';

/**
 * Rows `idx` of `[a; b]` (index < rows of a: a's row; else b's row `idx − rows(a)`), as
 * `[idx.length, ch]`, copied on the host, with a host scatter-add as the gradient for both
 * sources. The index tables of the window plans are constants, and tfjs-wasm's GatherV2 (plus
 * the concat it needs) was ~70 % of a pooled CNN training step; this copy is a few ms.
 */
export function gatherTwo(a: tf.Tensor, b: tf.Tensor, idx: Int32Array): tf.Tensor2D {
  const ch = a.shape[a.rank - 1]!;
  const na = a.size / ch;
  const nb = b.size / ch;
  const fn = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const da = (args[0] as tf.Tensor).dataSync() as Float32Array;
    const db = (args[1] as tf.Tensor).dataSync() as Float32Array;
    const out = new Float32Array(idx.length * ch);
    for (let e = 0, o = 0; e < idx.length; e++) {
      const t = idx[e]!;
      if (t < na) for (let k = 0, s = t * ch; k < ch; k++) out[o++] = da[s + k]!;
      else for (let k = 0, s = (t - na) * ch; k < ch; k++) out[o++] = db[s + k]!;
    }
    return {
      value: tf.tensor2d(out, [idx.length, ch]),
      gradFunc: (dy: tf.Tensor) => {
        const g = dy.dataSync() as Float32Array;
        const ga = new Float32Array(na * ch);
        const gb = new Float32Array(nb * ch);
        for (let e = 0, o = 0; e < idx.length; e++) {
          const t = idx[e]!;
          if (t < na) for (let k = 0, s = t * ch; k < ch; k++) ga[s + k]! += g[o++]!;
          else for (let k = 0, s = (t - na) * ch; k < ch; k++) gb[s + k]! += g[o++]!;
        }
        return [tf.reshape(tf.tensor1d(ga), a.shape), tf.reshape(tf.tensor1d(gb), b.shape)];
      },
    };
  });
  return fn(a, b) as tf.Tensor2D;
}
