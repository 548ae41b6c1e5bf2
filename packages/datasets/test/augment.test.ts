import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng } from '@patchcert/backend';
import { DEFAULT_AUGMENT, randomCropFlip } from '@patchcert/datasets';
import { pattern, throwsCode } from './helpers.js';

const H = 8;
const W = 6;
const C = 3;

/** Pixel (y, x, k) of image n in NHWC bytes, 0 outside the image (the zero padding). */
function at(images: Uint8Array, n: number, y: number, x: number, k: number): number {
  if (y < 0 || y >= H || x < 0 || x >= W) return 0;
  return images[((n * H + y) * W + x) * C + k]!;
}

function source(count: number): Uint8Array {
  const out = new Uint8Array(count * H * W * C);
  for (let n = 0; n < count; n++) out.set(pattern(n, H, W, C).map((v) => v | 1), n * H * W * C); // no zeros in the source
  return out;
}

const aug = suite('randomCropFlip');

aug('should keep a shifted window of the (mirrored) image, zeros where padding shows', () => {
  const count = 40;
  const src = source(count);
  const { images, flipped, offsets } = randomCropFlip(src, count, [H, W, C], new Rng(5), { padding: 2 });
  for (let n = 0; n < count; n++) {
    const dy = offsets[2 * n]!;
    const dx = offsets[2 * n + 1]!;
    assert.ok(Math.abs(dy) <= 2 && Math.abs(dx) <= 2);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const fx = x + dx;
        const sx = flipped[n] ? W - 1 - fx : fx;
        const inside = fx >= 0 && fx < W;
        for (let k = 0; k < C; k++) {
          assert.is(at(images, n, y, x, k), inside ? at(src, n, y + dy, sx, k) : 0);
        }
      }
    }
  }
});

aug('should mirror exactly when the flip is certain and there is no padding', () => {
  const src = source(2);
  const { images, flipped } = randomCropFlip(src, 2, [H, W, C], new Rng(0), { padding: 0, flipProbability: 1 });
  assert.equal(Array.from(flipped), [1, 1]);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) assert.is(at(images, 1, y, x, 2), at(src, 1, y, W - 1 - x, 2));
});

aug('should change nothing with padding 0 and flip probability 0', () => {
  const src = source(3);
  const { images } = randomCropFlip(src, 3, [H, W, C], new Rng(0), { padding: 0, flipProbability: 0 });
  assert.equal(Array.from(images), Array.from(src));
});

aug('should flip about half the images and use every offset in [-4, 4] with the defaults', () => {
  const count = 2000;
  const src = new Uint8Array(count * 4 * 4 * 1);
  const { flipped, offsets } = randomCropFlip(src, count, [4, 4, 1], new Rng(11));
  assert.equal(DEFAULT_AUGMENT, { padding: 4, flipProbability: 0.5 });
  const rate = flipped.reduce((s, v) => s + v, 0) / count;
  assert.ok(rate > 0.45 && rate < 0.55, `flip rate ${rate}`);
  const seen = new Set(offsets);
  assert.equal([...seen].sort((a, b) => a - b), [-4, -3, -2, -1, 0, 1, 2, 3, 4]);
});

aug('should repeat for the same seed', () => {
  const src = source(10);
  const a = randomCropFlip(src, 10, [H, W, C], new Rng(9));
  const b = randomCropFlip(src, 10, [H, W, C], new Rng(9));
  assert.equal(Array.from(a.images), Array.from(b.images));
  assert.equal(Array.from(a.offsets), Array.from(b.offsets));
});

aug('should throw for bad options and mismatched sizes', async () => {
  const src = source(1);
  await throwsCode(() => randomCropFlip(src, 1, [H, W, C], new Rng(0), { padding: -1 }), 'INVALID_OPTION', /padding/);
  await throwsCode(() => randomCropFlip(src, 1, [H, W, C], new Rng(0), { flipProbability: 2 }), 'INVALID_OPTION', /flipProbability/);
  await throwsCode(() => randomCropFlip(src, 2, [H, W, C], new Rng(0)), 'SHAPE_MISMATCH', /images\.length/);
});

aug.run();
