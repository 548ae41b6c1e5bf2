// PcGatherRuns (patchcert's wasm loop, and the JavaScript loop on cpu) against the layout written
// out independently: runs long and short (under and over the loop's 16-float split), with and
// without zeros before them, from several sources, and a zero tail; runs outside a source or past
// the output are errors that name the run.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, PcGatherRuns, Rng } from '@patchcert/backend';
import { assertThrowsMatching, runOn, seededNormal } from './helpers.js';

/** Runs as separate columns (how the test builds them); {@link packed} is the kernel's layout. */
interface Runs {
  src: Uint8Array;
  off: Int32Array;
  len: Int32Array;
  skip: Int32Array;
  count: number;
}

/** The kernel's attribute: `[count, 4]` int32 (source, offset, length, zeros before). */
function packed(runs: Runs): Int32Array {
  const out = new Int32Array(4 * runs.count);
  for (let q = 0; q < runs.count; q++) out.set([runs.src[q]!, runs.off[q]!, runs.len[q]!, runs.skip[q]!], 4 * q);
  return out;
}

/** Random runs over sources of `sizes` floats; `gaps` adds zeros before some runs. */
function randomRuns(sizes: number[], count: number, gaps: boolean, seed: number): Runs {
  const rng = new Rng(seed);
  const runs: Runs = { src: new Uint8Array(count), off: new Int32Array(count), len: new Int32Array(count), skip: new Int32Array(count), count };
  for (let q = 0; q < count; q++) {
    const s = Math.floor(rng.next() * sizes.length);
    const len = rng.next() < 0.5 ? Math.floor(rng.next() * 16) : 16 + Math.floor(rng.next() * 60);
    runs.src[q] = s;
    runs.len[q] = Math.min(len, sizes[s]!);
    runs.off[q] = Math.floor(rng.next() * (sizes[s]! - runs.len[q]! + 1));
    runs.skip[q] = gaps && rng.next() < 0.3 ? Math.floor(rng.next() * 5) : 0;
  }
  return runs;
}

/** The layout, element by element. */
function expected(data: Float32Array[], runs: Runs, size: number): Float32Array {
  const out = new Float32Array(size);
  let o = 0;
  for (let q = 0; q < runs.count; q++) {
    o += runs.skip[q]!;
    for (let i = 0; i < runs.len[q]!; i++) out[o++] = data[runs.src[q]!]![runs.off[q]! + i]!;
  }
  return out;
}

const used = (runs: Runs) => Array.from({ length: runs.count }, (_, q) => runs.skip[q]! + runs.len[q]!).reduce((a, b) => a + b, 0);

function gather(data: Float32Array[], runs: Runs, size: number): tf.Tensor {
  const inputs: tf.NamedTensorMap = {};
  data.forEach((d, i) => (inputs[`s${i}`] = tf.tensor1d(d)));
  return tf.engine().runKernel(PcGatherRuns, inputs, { runs: packed(runs), count: runs.count, size } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

const runsSuite = suite('PcGatherRuns');

for (const [k, { sizes, count, gaps, tail }] of [
  { sizes: [300], count: 40, gaps: false, tail: 0 },
  { sizes: [300, 77, 1000], count: 200, gaps: true, tail: 9 },
  { sizes: [5, 16], count: 30, gaps: true, tail: 3 },
].entries()) {
  for (const backend of ['wasm', 'cpu'] as const) {
    runsSuite(`[${backend}] should lay out ${count} runs from ${sizes.length} source(s)${gaps ? ' with zeros between' : ''}${tail ? ' and a zero tail' : ''}`, async () => {
      const data = sizes.map((n, i) => seededNormal(n, 40 + 10 * k + i));
      const runs = randomRuns(sizes, count, gaps, 7 + k);
      const size = used(runs) + tail;
      const [out] = await runOn(backend, () => gather(data, runs, size));
      assert.equal(Array.from(out!), Array.from(expected(data, runs, size)));
    });
  }
}

runsSuite('[wasm, cpu] should name a run that reads outside its source or writes past the output', async () => {
  const data = [seededNormal(20, 1), seededNormal(8, 2)];
  const ok = (): Runs => ({ src: Uint8Array.from([0, 1, 0]), off: Int32Array.from([0, 2, 10]), len: Int32Array.from([4, 6, 10]), skip: Int32Array.from([0, 1, 0]), count: 3 });
  for (const backend of ['wasm', 'cpu'] as const) {
    await initBackend(backend);
    const [good] = await runOn(backend, () => gather(data, ok(), 21));
    assert.equal(Array.from(good!), Array.from(expected(data, ok(), 21)));
    const past = ok();
    past.off[1] = 3; // source 1 has 8 floats: [3, 9) is outside
    assertThrowsMatching(() => gather(data, past, 21), /PcGatherRuns: run 1 must read inside an input, but reads \[3, 9\) of input s1/);
    const badSrc = ok();
    badSrc.src[2] = 2;
    assertThrowsMatching(() => gather(data, badSrc, 21), /run 2 must read inside an input/);
    assertThrowsMatching(() => gather(data, ok(), 20), /run 2 must fit the output of 20 floats/);
    const negative = ok();
    negative.skip[1] = -1;
    assertThrowsMatching(() => gather(data, negative, 21), /run 1 must fit the output of 21 floats/);
    assertThrowsMatching(
      () => tf.engine().runKernel(PcGatherRuns, { s0: tf.tensor1d(data[0]!) }, { runs: new Int32Array(7), count: 2, size: 4 } as unknown as tf.NamedAttrMap) as tf.Tensor,
      /PcGatherRuns: runs must be an Int32Array of at least 4 · count = 8 ints, but got 7/,
    );
  }
});

runsSuite.run();
