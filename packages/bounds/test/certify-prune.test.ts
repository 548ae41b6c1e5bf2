import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf, Rng } from '@patchcert/backend';
import { SequentialModel } from '@patchcert/models';
import { certify, squarePatch, rectanglePatch, namedShape, type PatchThreat, type CertifyResult } from '@patchcert/bounds';
import { paperModel, customModel, conv, relu, flatten, dense, randomImages, randomLabels, assertClose } from './_helpers.js';
import { paddedGroups } from '../src/internal/pruned-passes.js';

await initBackend('wasm');

/** fast == naive tolerance of the bounds tests (float32 summation order). */
const RTOL = 1e-5;

const t = suite('certify pruning');

/** Pruned certify must give the full loop's verdicts, worst location and class, field by field. */
function assertSame(got: CertifyResult, want: CertifyResult, what: string): void {
  assert.equal(Array.from(got.certified), Array.from(want.certified), `${what}: certified`);
  assert.equal(Array.from(got.correct), Array.from(want.correct), `${what}: correct`);
  assert.equal(Array.from(got.worstLocation), Array.from(want.worstLocation), `${what}: worstLocation`);
  assert.equal(Array.from(got.worstClass), Array.from(want.worstClass), `${what}: worstClass`);
  assertClose(got.worstMargin, want.worstMargin, RTOL, `${what}: worstMargin`);
  assert.is(got.locations, want.locations);
}

/** Images that are 0 except a patch of mid-grey texture in the corner `corner` (0–3) of the image. */
function cornerImages(rng: Rng, n: number, shape: [number, number, number], corner: number, size: number): tf.Tensor4D {
  const [h, w, c] = shape;
  const data = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const r = corner & 2 ? h - 1 - i : i;
        const col = corner & 1 ? w - 1 - j : j;
        for (let ch = 0; ch < c; ch++) data[((b * h + r) * w + col) * c + ch] = 0.3 + 0.4 * rng.next();
      }
    }
  }
  return tf.tensor4d(data, [n, h, w, c]);
}

/**
 * The model with its first dense layer's weight rows of pixel `(r, c)` (every channel) scaled by
 * `factor`: the patch covering that pixel then moves the first layer the most, so the worst
 * location is one that covers it (at a corner pixel: the corner location).
 */
function scalePixelRows(model: SequentialModel, h: number, w: number, pixels: [number, number][], factor: number): SequentialModel {
  const ws = model.weights.filter((x) => x !== null);
  const k = ws[0]!.kernel;
  const [rows, units] = k.shape as [number, number];
  const ch = rows / (h * w);
  const data = Float32Array.from(k.dataSync());
  for (const [r, c] of pixels) for (let q = 0; q < ch; q++) for (let u = 0; u < units; u++) data[((r * w + c) * ch + q) * units + u]! *= factor;
  const first = tf.tensor2d(data, [rows, units]);
  const out = new SequentialModel(model.layers, [{ kernel: first, bias: ws[0]!.bias }, ...ws.slice(1).map((x) => ({ kernel: x.kernel, bias: x.bias }))], model.metadata);
  first.dispose();
  return out;
}

const families: [string, () => SequentialModel, [number, number, number]][] = [
  ['mlp', () => paperModel('mlp', [16, 16, 1], 3, [32]), [16, 16, 1]],
  ['cnn-2layer', () => paperModel('cnn-2layer', [16, 16, 1], 5, [32]), [16, 16, 1]],
  ['cnn-4layer', () => paperModel('cnn-4layer', [14, 14, 1], 4, [16, 16]), [14, 14, 1]],
  ['cnn-4layer cifar-shaped, normalized', () => paperModel('cnn-4layer', [12, 12, 3], 7, [16, 16]), [12, 12, 3]],
  // No hidden dense layer: the conv-window plan assembles the whole map at the flatten.
  ['conv then the output layer', () => customModel([conv(4, 3, 2, 1), relu, conv(6, 3, 1, 1), relu, flatten, dense(10)], [11, 11, 1], 8), [11, 11, 1]],
];
const threats = (): PatchThreat[] => [squarePatch(2), rectanglePatch(3, 2), namedShape('diamond', 5)];

for (const [name, make, shape] of families) {
  t(`[${name}] pruned certify should equal prune: false and method: 'naive' on random and corner images (square, rectangle, diamond; eps 1, 0.4)`, () => {
    const rng = new Rng(shape[0] * 7 + shape[2]);
    const model = make();
    const n = 8;
    const x = tf.concat([randomImages(rng, n, shape), ...[0, 1, 2, 3].map((corner) => cornerImages(rng, 2, shape, corner, 3))]) as tf.Tensor4D;
    const y = randomLabels(rng, x.shape[0], model.numClasses);
    for (const threat of threats()) {
      for (const eps of [1, 0.4]) {
        const what = `${name} ${threat.name} eps ${eps}`;
        const pruned = certify(model, x, y, threat, { eps, imageBatch: 5, prune: true });
        const full = certify(model, x, y, threat, { eps, imageBatch: 5, prune: false });
        const naive = certify(model, x, y, threat, { eps, method: 'naive' });
        assertSame(pruned, full, `${what} vs prune: false`);
        assertSame(pruned, naive, `${what} vs naive`);
        // Also with small passes (several passes per round), one batch of every image, and the
        // naive plan (images grouped by candidate count, lists padded).
        assertSame(certify(model, x, y, threat, { eps, chunk: 7, prune: true }), full, `${what}, chunk 7`);
        assertSame(certify(model, x, y, threat, { eps, imageBatch: 64, prune: true }), full, `${what}, one batch`);
        assertSame(certify(model, x, y, threat, { eps, method: 'naive', prune: true }), naive, `${what}, naive pruned`);
        // The default (on CNNs: prune until it stops paying; these random models mostly stop).
        assertSame(certify(model, x, y, threat, { eps }), full, `${what}, default`);
      }
    }
    tf.dispose(x);
    model.dispose();
  });
}

t('[mlp] should find the worst location at each corner of the grid (clamped last blocks included)', () => {
  const [h, w] = [15, 14]; // a 2×2 patch: 14×13 locations, odd columns (the last block is shifted back)
  const base = paperModel('mlp', [h, w, 1], 11, [24]);
  const rng = new Rng(12);
  const x = randomImages(rng, 4, [h, w, 1]);
  const y = randomLabels(rng, 4, 10);
  const threat = squarePatch(2);
  const [gh, gw] = threat.grid(h, w);
  const corners: [[number, number], number][] = [[[0, 0], 0], [[0, w - 1], gw - 1], [[h - 1, 0], (gh - 1) * gw], [[h - 1, w - 1], gh * gw - 1]];
  for (const [pixel, loc] of corners) {
    const model = scalePixelRows(base, h, w, [pixel], 40);
    for (const eps of [1, 0.4]) {
      const full = certify(model, x, y, threat, { eps, prune: false });
      assert.equal(Array.from(full.worstLocation), [loc, loc, loc, loc], `the set-up puts the worst location at ${loc}`);
      assertSame(certify(model, x, y, threat, { eps, prune: true }), full, `corner ${loc} eps ${eps} vs prune: false`);
      assertSame(certify(model, x, y, threat, { eps, method: 'naive' }), full, `corner ${loc} eps ${eps} vs naive`);
    }
    model.dispose();
  }
  tf.dispose(x);
  base.dispose();
});

t('[mlp] a NaN bound at some locations should leave the image uncertified with the full loop\'s worst location and class', () => {
  const [h, w] = [12, 12];
  const base = paperModel('mlp', [h, w, 1], 13, [24]);
  // Weights ±2e38 (alternating) on the 2×2 pixels at (5, 6), which are 0.5 in every image: the
  // clean sum there is exactly 0, but a patch covering all four pixels overflows the radius to ∞
  // and the elided layer makes ∞ − ∞ = NaN; a patch covering two of them gives −∞ (tied
  // locations: the first one wins), the others finite bounds.
  const px: [number, number][] = [[5, 6], [5, 7], [6, 6], [6, 7]];
  const ws = base.weights.filter((v) => v !== null);
  const kernel = Float32Array.from(ws[0]!.kernel.dataSync());
  px.forEach(([r, c], i) => {
    for (let u = 0; u < 24; u++) kernel[(r * w + c) * 24 + u] = i % 2 ? -2e38 : 2e38;
  });
  const k0 = tf.tensor2d(kernel, [h * w, 24]);
  const model = new SequentialModel(base.layers, [{ kernel: k0, bias: ws[0]!.bias }, { kernel: ws[1]!.kernel, bias: ws[1]!.bias }], base.metadata);
  k0.dispose();
  const rng = new Rng(14);
  const pixels = randomImages(rng, 3, [h, w, 1]).bufferSync();
  for (let b = 0; b < 3; b++) for (const [r, c] of px) pixels.set(0.5, b, r, c, 0);
  const x = pixels.toTensor() as tf.Tensor4D;
  const y = randomLabels(rng, 3, 10);
  for (const threat of [squarePatch(2), rectanglePatch(3, 2)]) {
    const full = certify(model, x, y, threat, { prune: false, marginMap: true });
    const map = full.marginMap![0]!;
    assert.ok(map.some(Number.isNaN) && map.some(Number.isFinite), 'the set-up has NaN at some locations and finite bounds elsewhere');
    const pruned = certify(model, x, y, threat, { prune: true });
    assert.equal(Array.from(pruned.certified), [0, 0, 0]);
    assert.ok(Array.from(pruned.worstMargin).every(Number.isNaN));
    assert.equal(Array.from(pruned.worstLocation), Array.from(full.worstLocation));
    assert.equal(Array.from(pruned.worstClass), Array.from(full.worstClass));
    assert.equal(Array.from(pruned.correct), Array.from(full.correct));
  }
  tf.dispose(x);
  model.dispose();
  base.dispose();
});

t('should compute every location where pruning is off (marginMap, fixed locations, tiny grids) and agree', () => {
  const rng = new Rng(15);
  const model = paperModel('mlp', [6, 6, 1], 16, [12]);
  const x = randomImages(rng, 3, [6, 6, 1]);
  const y = randomLabels(rng, 3, 10);
  for (const threat of [squarePatch(3), squarePatch(2, { at: [[0, 0], [4, 4], [2, 3]] }), squarePatch(5)]) {
    const full = certify(model, x, y, threat, { prune: false });
    assertSame(certify(model, x, y, threat, { prune: true }), full, threat.name);
    assertSame(certify(model, x, y, threat, { marginMap: true }), full, `${threat.name} marginMap`);
  }
  tf.dispose(x);
  model.dispose();
});

t('[cnn-4layer] near-ties (eps 0: every location has the clean margins up to rounding) should give the full loop\'s location and class', () => {
  const rng = new Rng(18);
  const model = paperModel('cnn-4layer', [14, 14, 1], 19, [16, 16]);
  const x = randomImages(rng, 3, [14, 14, 1]);
  const y = randomLabels(rng, 3, 10);
  const full = certify(model, x, y, squarePatch(2), { eps: 0, prune: false });
  assertSame(certify(model, x, y, squarePatch(2), { eps: 0, prune: true }), full, 'eps 0');
  assertSame(certify(model, x, y, squarePatch(2), { eps: 0 }), full, 'eps 0, default');
  tf.dispose(x);
  model.dispose();
});

t('paddedGroups should give every image its whole list, padded only with its own locations, in batch order', () => {
  const rng = new Rng(17);
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + rng.int(12);
    // Lengths from 0 to 40, so groups mix lists of different lengths in any batch order.
    const lists = Array.from({ length: n }, () => Array.from({ length: rng.int(41) }, () => rng.int(729)));
    const seen = new Set<number>();
    for (const { members, locs, k } of paddedGroups(lists)) {
      assert.is(locs.length, members.length * k);
      let real = 0;
      members.forEach((b, s) => {
        if (s > 0) assert.ok(b > members[s - 1]!, 'members in batch order');
        seen.add(b);
        const list = lists[b]!;
        real += list.length;
        assert.ok(list.length > 0 && list.length <= k, `image ${b}: its list (${list.length}) fits the group's k (${k})`);
        assert.equal(Array.from(locs.subarray(s * k, s * k + list.length)), list, `image ${b}: its whole list`);
        for (let q = list.length; q < k; q++) assert.is(locs[s * k + q], list[0], `image ${b}: padding repeats its own location`);
      });
      assert.ok(members.length * k <= 1.25 * real + 1e-9, 'padding within 1.25× of the real rows');
    }
    assert.equal([...seen].sort((a, b) => a - b), lists.flatMap((l, b) => (l.length > 0 ? [b] : [])), 'every image with a list, once');
  }
});

t.run();
