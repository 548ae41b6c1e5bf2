import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '@patchcert/backend';
import { sampleGuidedLocations, mergeGuidedSamples, type GuidedSample } from '@patchcert/unet-guide';
import { throwsCode } from './___helpers.js';

const sampler = suite('sampleGuidedLocations');

/** A fixed 1-image, 1-class prediction over a 3×4 grid with distinct softmax weights. */
const PRED = [0.0, 1.0, -0.5, 2.0, 0.3, -1.0, 1.5, 0.7, 0.1, -0.2, 3.0, 0.4];
const softmaxNeg = (p: number[], t = 1) => {
  const e = p.map((v) => Math.exp(-t * v));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

sampler('[k=1] should pick each location with frequency softmax(−pred)', () => {
  const rng = new Rng(1);
  const draws = 40000;
  const hits = new Array<number>(12).fill(0);
  for (let i = 0; i < draws; i++) {
    const s = sampleGuidedLocations(PRED, [1, 3, 4, 1], 1, rng);
    hits[s.picks[0]!]! += 1;
  }
  const p = softmaxNeg(PRED);
  // Chi-square with 11 degrees of freedom: the 99.9% quantile is 31.3.
  const chi2 = hits.reduce((acc, h, i) => acc + (h - draws * p[i]!) ** 2 / (draws * p[i]!), 0);
  assert.ok(chi2 < 31.3, `chi2 = ${chi2.toFixed(2)}`);
  const maxDev = Math.max(...hits.map((h, i) => Math.abs(h / draws - p[i]!)));
  assert.ok(maxDev < 0.01, `max deviation ${maxDev}`);
});

sampler('[k=1 T=2] should sharpen the distribution with the temperature', () => {
  const rng = new Rng(2);
  const draws = 20000;
  const hits = new Array<number>(12).fill(0);
  for (let i = 0; i < draws; i++) hits[sampleGuidedLocations(PRED, [1, 3, 4, 1], 1, rng, { temperature: 2 }).picks[0]!]! += 1;
  const p = softmaxNeg(PRED, 2);
  const maxDev = Math.max(...hits.map((h, i) => Math.abs(h / draws - p[i]!)));
  assert.ok(maxDev < 0.012, `max deviation ${maxDev}`);
});

sampler('[k=2] should draw without replacement with the sequential-multinomial law', () => {
  const rng = new Rng(3);
  const draws = 30000;
  const p = softmaxNeg(PRED);
  // P(location i among the two picks) = p_i + Σ_{j≠i} p_j p_i / (1 − p_j).
  const inclusion = p.map((pi, i) => pi + p.reduce((acc, pj, j) => (j === i ? acc : acc + (pj * pi) / (1 - pj)), 0));
  const hits = new Array<number>(12).fill(0);
  for (let i = 0; i < draws; i++) {
    const s = sampleGuidedLocations(PRED, [1, 3, 4, 1], 2, rng);
    const [a, b] = [s.picks[0]!, s.picks[1]!];
    assert.is.not(a, b);
    hits[a]! += 1;
    hits[b]! += 1;
  }
  const maxDev = Math.max(...hits.map((h, i) => Math.abs(h / draws - inclusion[i]!)));
  assert.ok(maxDev < 0.012, `max deviation ${maxDev}`);
});

sampler('[k=L] should return every location exactly once', () => {
  const s = sampleGuidedLocations(PRED, [1, 3, 4, 1], 12, new Rng(4));
  assert.equal([...s.picks].sort((a, b) => a - b), [...Array(12).keys()]);
  assert.is(s.counts[0], 12);
});

sampler('should merge picks repeated across classes so each location is bounded once per image', () => {
  // Two images, 5 classes, 2×2 grid; every class of image 0 strongly prefers cell 3.
  const classes = 5;
  const pred = new Float32Array(2 * 4 * classes).fill(0);
  for (let j = 0; j < classes; j++) for (let c = 0; c < 3; c++) pred[c * classes + j] = 50;
  const s = sampleGuidedLocations(pred, [2, 2, 2, classes], 1, new Rng(5));
  assert.is(s.counts[0], 1);
  assert.is(s.cellCounts[3], 5);
  assert.is(s.cellSlots[3], 0);
  assert.ok(s.counts[1]! >= 1 && s.counts[1]! <= 4);
  assert.is(s.width, s.counts[1]);
  // Image 0's row is padded with its only location, which leaves a minimum unchanged.
  assert.equal(Array.from(s.locations.subarray(0, s.width)), new Array(s.width).fill(3));
  const row1 = Array.from(s.locations.subarray(s.width));
  assert.is(new Set(row1).size, s.counts[1]);
  // Every pick's cell is in its image's list; counts add up to classes·k per image.
  for (let n = 0; n < 2; n++) {
    const list = new Set(Array.from(s.locations.subarray(n * s.width, (n + 1) * s.width)));
    for (let j = 0; j < classes; j++) assert.ok(list.has(s.picks[n * classes + j]!));
    assert.is(Array.from(s.cellCounts.subarray(n * 4, n * 4 + 4)).reduce((a, b) => a + b, 0), classes);
  }
});

sampler('[transposeCoordinates] should bound the transposed location of the drawn cell (reference Q2)', () => {
  const pred = new Float32Array(9).fill(40);
  pred[1] = -40; // cell (row 0, col 1)
  const s = sampleGuidedLocations(pred, [1, 3, 3, 1], 1, new Rng(6), { transposeCoordinates: true });
  assert.is(s.picks[0], 1);
  assert.is(s.locations[0], 3); // location (row 1, col 0)
  const plain = sampleGuidedLocations(pred, [1, 3, 3, 1], 1, new Rng(6));
  assert.is(plain.locations[0], 1);
});

sampler('should repeat the same draws for the same seed', () => {
  const a = sampleGuidedLocations(PRED, [1, 3, 4, 1], 3, new Rng(7));
  const b = sampleGuidedLocations(PRED, [1, 3, 4, 1], 3, new Rng(7));
  assert.equal(Array.from(a.picks), Array.from(b.picks));
});

/** Every key computed, then a stable sort: what the bounded scan must reproduce draw for draw. */
function bruteForcePicks(pred: ArrayLike<number>, [batch, rows, cols, classes]: number[], k: number, rng: Rng, t = 1): number[] {
  const cells = rows! * cols!;
  const picks: number[] = [];
  for (let n = 0; n < batch!; n++) {
    for (let j = 0; j < classes!; j++) {
      const keys = Array.from({ length: cells }, (_, cell) => {
        const u = (rng.nextU32() + 0.5) / 4294967296;
        return { cell, key: -t * pred[(n * cells + cell) * classes! + j]! + -Math.log(-Math.log(u)) };
      });
      keys.sort((a, b) => b.key - a.key);
      picks.push(...keys.slice(0, k).map((e) => e.cell));
    }
  }
  return picks;
}

sampler('should pick exactly what computing every Gumbel key picks, and use as many draws', () => {
  const cases: Array<{ shape: [number, number, number, number]; k: number; t: number; scale: number }> = [
    { shape: [4, 27, 27, 10], k: 1, t: 1, scale: 3 },
    { shape: [3, 5, 6, 4], k: 2, t: 2.5, scale: 1 },
    { shape: [2, 9, 9, 3], k: 5, t: 0.5, scale: 40 },
    { shape: [2, 4, 4, 2], k: 1, t: 1, scale: 1e-9 }, // near ties: every key is within a bucket's width
  ];
  for (const [i, { shape, k, t, scale }] of cases.entries()) {
    const values = new Rng(100 + i);
    const pred = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * (values.next() * 2 - 1));
    const a = new Rng(200 + i);
    const b = new Rng(200 + i);
    const s = sampleGuidedLocations(pred, shape, k, a, { temperature: t });
    assert.equal(Array.from(s.picks), bruteForcePicks(pred, shape, k, b, t), `case ${i}`);
    assert.is(a.nextU32(), b.nextU32(), `case ${i}: generator state`);
  }
});

sampler('should throw for a k larger than the grid, a wrong length or a transposed non-square grid', () => {
  throwsCode(() => sampleGuidedLocations(PRED, [1, 3, 4, 1], 13, new Rng(1)), 'INVALID_ARGUMENT');
  throwsCode(() => sampleGuidedLocations(PRED, [1, 3, 3, 1], 1, new Rng(1)), 'SHAPE_MISMATCH');
  throwsCode(() => sampleGuidedLocations(PRED, [1, 3, 4, 1], 1, new Rng(1), { transposeCoordinates: true }), 'INVALID_OPTION');
});

sampler('slices drawn from the replayed words of one batch merge into the whole batch\'s draw', () => {
  // What UNetGuidePool does: the run generator's words for the batch, drawn at once, each worker
  // drawing its images from its slice of them; k = 2 and many classes make widths differ per image.
  const [batch, rows, cols, classes, k] = [7, 4, 5, 3, 2];
  const rng = new Rng(9);
  const pred = Float32Array.from({ length: batch * rows * cols * classes }, () => rng.uniform(-2, 2));
  const whole = sampleGuidedLocations(pred, [batch, rows, cols, classes], k, new Rng(4));
  const words = new Rng(4).fillU32(new Uint32Array(batch * rows * cols * classes));
  const perImage = rows * cols * classes;
  const replay = (from: number) => {
    let at = from * perImage;
    return { fillU32: (out: Uint32Array) => { out.set(words.subarray(at, (at += out.length))); return out; } };
  };
  const slices = [[0, 3], [3, 4], [4, 7]] as const;
  const parts = slices.map(([lo, hi]) =>
    sampleGuidedLocations(pred.subarray(lo * perImage, hi * perImage), [hi - lo, rows, cols, classes], k, replay(lo)));
  assert.ok(new Set(parts.map((p) => p.width)).size > 1, 'the slices have different widths');
  const merged = mergeGuidedSamples(parts);
  const fields: Array<keyof GuidedSample> = ['batch', 'width', 'drawsPerClass', 'classes'];
  for (const f of fields) assert.is(merged[f], whole[f], f);
  assert.equal(merged.grid, whole.grid);
  for (const f of ['locations', 'counts', 'picks', 'cellCounts', 'cellSlots'] as const) assert.equal(Array.from(merged[f]), Array.from(whole[f]), f);
});

sampler('mergeGuidedSamples should refuse parts of different grids', () => {
  const a = sampleGuidedLocations(new Float32Array(12), [1, 3, 4, 1], 1, new Rng(1));
  const b = sampleGuidedLocations(new Float32Array(12), [1, 4, 3, 1], 1, new Rng(1));
  throwsCode(() => mergeGuidedSamples([a, b]), 'SHAPE_MISMATCH', /grid 3×4/);
  throwsCode(() => mergeGuidedSamples([]), 'INVALID_ARGUMENT', /at least one/);
});

sampler.run();
