import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, Rng, tf } from '@patchcert/backend';
import {
  bandCount,
  bandMasks,
  bandsMetByPatch,
  encodeAblated,
  identityPermutation,
  randomKeepMasks,
  writeBandMask,
} from '@patchcert/ablation';
import { throwsCode } from './helpers.js';

const encode = suite('encodeAblated');

encode.before(async () => {
  await initBackend('wasm');
});

encode('should give (x, 1 − x) for kept pixels and (0, 0) for ablated ones, C channels then C more', () => {
  // 1 image 1×2×2: pixel (0,0) kept, (0,1) ablated.
  const x = tf.tensor4d([0.25, 1, 0, 0.5], [1, 1, 2, 2]);
  const keep = tf.tensor4d([1, 0], [1, 1, 2, 1]);
  const before = tf.memory().numTensors;
  const y = encodeAblated(x, keep);
  assert.is(tf.memory().numTensors, before + 1, 'only the output is left');
  assert.equal(y.shape, [1, 1, 2, 4]);
  assert.equal(Array.from(y.dataSync()), [0.25, 1, 0.75, 0, 0, 0, 0, 0]);
  tf.dispose([x, keep, y]);
});

encode('should tell an ablated pixel from every real value, 0 and 1 included', () => {
  const x = tf.tensor4d([0, 1, 0.5], [3, 1, 1, 1]);
  const kept = encodeAblated(x, tf.ones([3, 1, 1, 1]));
  const ablated = encodeAblated(x, tf.zeros([3, 1, 1, 1]));
  const k = kept.arraySync() as number[][][][];
  for (const row of k) assert.ok(row[0]![0]![0]! + row[0]![0]![1]! === 1, 'kept pairs sum to 1');
  assert.equal(Array.from(ablated.dataSync()), [0, 0, 0, 0, 0, 0]);
  tf.dispose([x, kept, ablated]);
});

encode('should broadcast one image over many masks', () => {
  const x = tf.fill([1, 2, 2, 1], 0.2) as tf.Tensor4D;
  const keep = tf.tensor4d(bandMasks('column', 2, 2, 1), [2, 2, 2, 1]);
  const y = encodeAblated(x, keep);
  assert.equal(y.shape, [2, 2, 2, 2]);
  tf.dispose([x, keep, y]);
});

encode('should throw SHAPE_MISMATCH for a mask of another size', () => {
  const x = tf.zeros([2, 4, 4, 1]) as tf.Tensor4D;
  const keep = tf.zeros([2, 4, 3, 1]) as tf.Tensor4D;
  throwsCode(() => encodeAblated(x, keep), 'SHAPE_MISMATCH');
  tf.dispose([x, keep]);
});

encode.run();

// ---

const random = suite('randomKeepMasks');

random('should keep exactly kKeep distinct pixels per mask, each pixel about equally often', () => {
  const d = 20;
  const kKeep = 5;
  const count = 4000;
  const out = new Float32Array(count * d);
  randomKeepMasks(new Rng(3), out, count, d, kKeep, identityPermutation(d));
  const freq = new Array<number>(d).fill(0);
  for (let s = 0; s < count; s++) {
    let kept = 0;
    for (let p = 0; p < d; p++) {
      const v = out[s * d + p]!;
      assert.ok(v === 0 || v === 1);
      kept += v;
      freq[p]! += v;
    }
    assert.is(kept, kKeep);
  }
  // Expected count·kKeep/d = 1000 per pixel, sd ≈ 27.
  for (const f of freq) assert.ok(Math.abs(f - 1000) < 150, `pixel frequency ${f}`);
});

random('should give the same masks for the same seed', () => {
  const a = new Float32Array(50 * 16);
  const b = new Float32Array(50 * 16);
  randomKeepMasks(new Rng(9), a, 50, 16, 3, identityPermutation(16));
  randomKeepMasks(new Rng(9), b, 50, 16, 3, identityPermutation(16));
  assert.equal(a, b);
});

random('should throw INVALID_OPTION for kKeep > d', () => {
  throwsCode(() => randomKeepMasks(new Rng(0), new Float32Array(10), 1, 10, 11, identityPermutation(10)), 'INVALID_OPTION');
});

random.run();

// ---

const bands = suite('bandMasks');

bands('should keep columns b..b+s−1 wrapping at the right edge', () => {
  const h = 3;
  const w = 5;
  const s = 2;
  const m = bandMasks('column', h, w, s);
  assert.is(m.length, bandCount('column', h, w) * h * w);
  for (let b = 0; b < w; b++) {
    for (let r = 0; r < h; r++) {
      for (let c = 0; c < w; c++) {
        const expected = c === b || c === (b + 1) % w ? 1 : 0;
        assert.is(m[b * h * w + r * w + c], expected, `band ${b} (${r},${c})`);
      }
    }
  }
});

bands('should keep an s×s block wrapping in both directions', () => {
  const h = 4;
  const w = 4;
  const m = bandMasks('block', h, w, 2);
  assert.is(m.length / (h * w), 16);
  const b = 3 * w + 3; // corner block wraps to rows {3,0}, cols {3,0}
  const kept: string[] = [];
  for (let p = 0; p < h * w; p++) if (m[b * h * w + p] === 1) kept.push(`${Math.floor(p / w)},${p % w}`);
  assert.equal(kept.sort(), ['0,0', '0,3', '3,0', '3,3']);
});

bands('should throw INVALID_OPTION for a band wider than the image', () => {
  throwsCode(() => bandMasks('column', 4, 4, 5), 'INVALID_OPTION');
});

bands.run();

// ---

const writeBand = suite('writeBandMask');

writeBand('should write only its own slot of the buffer', () => {
  const out = new Float32Array(3 * 4).fill(7);
  writeBandMask(out, 4, 'column', 1, 2, 2, 1);
  assert.equal(Array.from(out), [7, 7, 7, 7, 0, 1, 0, 1, 7, 7, 7, 7]);
});

writeBand.run();

// ---

const met = suite('bandsMetByPatch');

met('should equal the most bands any m×m patch position meets, by direct enumeration', () => {
  for (const [h, w] of [[6, 6], [5, 8]] as [number, number][]) {
    for (const kind of ['column', 'block'] as const) {
      for (let s = 1; s <= Math.min(h, w); s++) {
        const masks = bandMasks(kind, h, w, s);
        const n = bandCount(kind, h, w);
        for (let m = 1; m <= Math.min(h, w); m++) {
          let most = 0;
          for (let r0 = 0; r0 + m <= h; r0++) {
            for (let c0 = 0; c0 + m <= w; c0++) {
              let hit = 0;
              for (let b = 0; b < n; b++) {
                let meets = false;
                for (let r = r0; r < r0 + m && !meets; r++) for (let c = c0; c < c0 + m && !meets; c++) meets = masks[b * h * w + r * w + c] === 1;
                if (meets) hit++;
              }
              most = Math.max(most, hit);
            }
          }
          assert.is(bandsMetByPatch(kind, m, s, h, w), most, `${kind} ${h}x${w} s=${s} m=${m}`);
        }
      }
    }
  }
});

met.run();
