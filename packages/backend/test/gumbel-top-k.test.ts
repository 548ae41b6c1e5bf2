// gumbelTopK (PcGumbelTopK on wasm and cpu, the JavaScript loop elsewhere) against the draw
// written out naively: every cell's key −T·score + gumbelOf(word) computed from the same words,
// the k largest taken by a full sort. Both word sources (an Rng, generated inside the wasm loop,
// and replayed words), k from 1 to every cell, temperatures of either sign, scores so spread that
// the kernels' bucket bound prunes almost every cell, and the generator's state after the draw.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng, gumbelTopK, gumbelOf, PatchcertError, PcGumbelTopK } from '@patchcert/backend';
import { assertThrowsMatching } from './helpers.js';

interface Case {
  tag: string;
  batch: number;
  rows: number;
  cols: number;
  classes: number;
  k: number;
  temperature: number;
  /** Score spread: uniform in ±spread. */
  spread: number;
}

const CASES: Case[] = [
  { tag: 'MNIST grid, k 1', batch: 4, rows: 27, cols: 27, classes: 10, k: 1, temperature: 1, spread: 4 },
  { tag: 'k 3, T 0.5', batch: 3, rows: 6, cols: 7, classes: 4, k: 3, temperature: 0.5, spread: 2 },
  { tag: 'every cell (k = cells)', batch: 2, rows: 3, cols: 4, classes: 3, k: 12, temperature: 1, spread: 1 },
  { tag: 'negative temperature', batch: 2, rows: 5, cols: 5, classes: 2, k: 2, temperature: -1.5, spread: 3 },
  { tag: 'scores spread over 1e4 (bound prunes almost all)', batch: 2, rows: 9, cols: 9, classes: 5, k: 2, temperature: 1, spread: 1e4 },
  { tag: 'one class, one image', batch: 1, rows: 2, cols: 3, classes: 1, k: 1, temperature: 1, spread: 1 },
];

function scoresOf(c: Case, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: c.batch * c.rows * c.cols * c.classes }, () => r.uniform(-c.spread, c.spread));
}

/** The naive draw: all keys from `words` (class-major per image), sorted, the k largest. */
function naive(c: Case, scores: Float32Array, words: Uint32Array): Int32Array {
  const cells = c.rows * c.cols;
  const out = new Int32Array(c.batch * c.classes * c.k);
  let o = 0;
  for (let n = 0; n < c.batch; n++) {
    for (let j = 0; j < c.classes; j++) {
      const keys = Array.from({ length: cells }, (_, cell) => ({
        cell,
        key: -c.temperature * scores[(n * cells + cell) * c.classes + j]! + gumbelOf(words[(n * c.classes + j) * cells + cell]!),
      }));
      keys.sort((a, b) => b.key - a.key);
      for (let d = 0; d < c.k; d++) out[o++] = keys[d]!.cell;
    }
  }
  return out;
}

const draw = suite('gumbelTopK');

for (const backend of ['wasm', 'cpu'] as const) {
  for (const c of CASES) {
    draw(`[${c.tag}, ${backend}] should pick what the naive draw picks, from an Rng and from replayed words, and advance the Rng past the words`, async () => {
      await initBackend(backend);
      assert.ok(tf.getKernel(PcGumbelTopK, backend), `PcGumbelTopK registered on ${backend}`);
      const values = scoresOf(c, 11);
      const words = new Uint32Array(c.batch * c.classes * c.rows * c.cols);
      const reference = new Rng(7);
      reference.fillU32(words);
      const want = naive(c, values, words);
      const scores = tf.tensor4d(values, [c.batch, c.rows, c.cols, c.classes]);
      try {
        const rng = new Rng(7);
        assert.equal(Array.from(gumbelTopK(scores, c.k, rng, c.temperature)), Array.from(want), 'from an Rng');
        assert.equal(rng.getState(), reference.getState(), 'the Rng is past exactly the words drawn');
        let at = 0;
        const replay = { fillU32: (out: Uint32Array) => { out.set(words.subarray(at, at + out.length)); at += out.length; return out; } };
        assert.equal(Array.from(gumbelTopK(tf.reshape(scores, [c.batch, c.rows * c.cols, c.classes]), c.k, replay, c.temperature)), Array.from(want), 'from replayed words');
        assert.is(at, words.length);
        // A source that lends its words as a view is read in place (fillU32 is not called).
        const lending = { fillU32: (): Uint32Array => { throw new Error('fillU32 must not be called when nextWords is given'); }, nextWords: (count: number) => words.subarray(0, count) };
        assert.equal(Array.from(gumbelTopK(scores, c.k, lending, c.temperature)), Array.from(want), 'from lent words');
      } finally {
        scores.dispose();
      }
    });
  }
}

draw('should refuse k outside [1, cells], a non-finite temperature and another rank, naming the value', async () => {
  await initBackend('wasm');
  const scores = tf.zeros([2, 3, 3, 4]);
  try {
    assertThrowsMatching(() => gumbelTopK(scores, 0, new Rng(1)), /k must be an integer in \[1, 9\], but got 0/);
    assertThrowsMatching(() => gumbelTopK(scores, 10, new Rng(1)), /k must be an integer in \[1, 9\], but got 10/);
    assertThrowsMatching(() => gumbelTopK(scores, 1, new Rng(1), Number.NaN), /temperature must be finite, but got NaN/);
    assertThrowsMatching(() => gumbelTopK(tf.zeros([9, 4]), 1, new Rng(1)), /scores must be \[batch, cells, classes\]/);
    try {
      tf.engine().runKernel(PcGumbelTopK, { scores: tf.zeros([2, 9, 4]) }, { k: 1, temperature: 1 } as unknown as tf.NamedAttrMap);
      assert.unreachable('a call without words or state must be refused');
    } catch (e) {
      assert.instance(e, PatchcertError);
      assert.match((e as Error).message, /exactly one of 'words' and 'state'/);
    }
  } finally {
    scores.dispose();
  }
});

draw.run();
