import { tf } from '../tf.js';
import { assert } from '../errors.js';
import { Rng } from '../rng.js';
import { PcGumbelTopK } from '../kernel-names.js';
import { gumbelTopKLoop } from '../kernels/gumbel-top-k.js';

/**
 * Where the draw's noise words come from: an {@link Rng}, or a stand-in that replays its words.
 * A stand-in that holds them in memory may also lend the next `count` words as a view
 * (`nextWords`), which the draw then reads without copying them into a fresh array.
 */
export type RandomWords = Pick<Rng, 'fillU32'> & { nextWords?(count: number): Uint32Array };

/**
 * Gumbel-top-k draw per image and class ({@link PcGumbelTopK}): for every image n and class j,
 * k distinct cells drawn from softmax(−temperature·scores[n, cell, j]) over the cells, without
 * replacement (the k largest of −T·score + Gumbel noise have exactly the distribution of
 * sequential renormalized draws). Takes classes·cells words of `noise` per image, in image
 * order, class-major; an {@link Rng} is advanced past them (on wasm the words are generated in
 * the kernel), anything else is asked for them with `fillU32`. No gradient.
 *
 * @param scores - `[batch, cells, classes]` or `[batch, rows, cols, classes]` (cells row-major).
 * @param k - draws per (image, class), 1 ≤ k ≤ cells.
 * @returns the drawn cells `[batch, classes, k]` (flat), largest key first.
 * @throws PatchcertError `INVALID_ARGUMENT` for another rank, k outside [1, cells] or a
 *   non-finite temperature.
 */
export function gumbelTopK(scores: tf.Tensor, k: number, noise: RandomWords, temperature = 1): Int32Array {
  assert(scores.rank === 3 || scores.rank === 4, () => `Error in gumbelTopK: scores must be [batch, cells, classes] or [batch, rows, cols, classes], but got [${scores.shape.join(', ')}].`);
  const batch = scores.shape[0]!;
  const classes = scores.shape[scores.rank - 1]!;
  const cells = scores.size / (batch * classes);
  assert(Number.isInteger(k) && k >= 1 && k <= cells, () => `Error in gumbelTopK: k must be an integer in [1, ${cells}], but got ${k}.`);
  assert(Number.isFinite(temperature), () => `Error in gumbelTopK: temperature must be finite, but got ${temperature}.`, 'INVALID_OPTION');
  if (tf.getKernel(PcGumbelTopK, tf.getBackend()) === undefined) {
    // No kernel on this backend (tfjs-node): the same loop on the values.
    const picks = new Int32Array(batch * classes * k);
    gumbelTopKLoop(scores.dataSync(), batch, cells, classes, k, temperature, (w) => noise.fillU32(w), picks);
    return picks;
  }
  return tf.tidy(() => {
    const flat = tf.reshape(scores, [batch, cells, classes]);
    const attrs = { k, temperature } as unknown as tf.NamedAttrMap;
    if (noise instanceof Rng) {
      const state = tf.tensor1d(Int32Array.from(noise.getState().s), 'int32');
      const [picks, next] = tf.engine().runKernel(PcGumbelTopK, { scores: flat, state }, attrs) as tf.Tensor[];
      noise.setState({ s: Array.from(next!.dataSync(), (v) => v >>> 0) as [number, number, number, number] });
      return picks!.dataSync() as Int32Array;
    }
    const count = batch * classes * cells;
    let words = noise.nextWords?.(count);
    if (words === undefined) {
      words = new Uint32Array(count);
      noise.fillU32(words);
    }
    const wordTensor = tf.tensor3d(new Int32Array(words.buffer, words.byteOffset, count), [batch, classes, cells], 'int32');
    const [picks] = tf.engine().runKernel(PcGumbelTopK, { scores: flat, words: wordTensor }, attrs) as tf.Tensor[];
    return picks!.dataSync() as Int32Array;
  });
}
