import { PatchcertError, mustBe, type Rng } from '@patchcert/backend';

/** Options of the CIFAR training augmentation; every field is optional. */
export interface AugmentOptions {
  /**
   * Zero padding (pixel value 0, before normalization) around each side before a random crop
   * of the original size; 0 disables cropping.
   * @defaultValue 4
   */
  padding?: number;
  /**
   * Probability of a horizontal flip.
   * @defaultValue 0.5
   */
  flipProbability?: number;
}

/** The reference's CIFAR-10 train transform: `RandomHorizontalFlip()` then `RandomCrop(32, padding=4)`. */
export const DEFAULT_AUGMENT: Required<AugmentOptions> = { padding: 4, flipProbability: 0.5 };

/** Augmented images and the random draws that produced them. */
export interface AugmentResult {
  /** Same layout as the input, `[count, height, width, channels]` bytes. */
  images: Uint8Array;
  /** 1 where image i was mirrored. */
  flipped: Uint8Array;
  /**
   * `[count, 2]` crop offsets (dy, dx) in [-padding, padding]: output pixel (y, x) is the
   * (possibly mirrored) input pixel (y + dy, x + dx), or 0 outside the image.
   */
  offsets: Int32Array;
}

/**
 * Random horizontal flip, then random crop with zero padding, per image, drawn from `rng` in
 * image order (flip draw, then dy, then dx), so a seed fixes every result. Works on bytes so no
 * float image is materialised twice.
 *
 * @param images `count * height * width * channels` bytes, NHWC
 * @param shape `[height, width, channels]`
 * @throws PatchcertError INVALID_OPTION for a negative padding or a probability outside [0,1]
 */
export function randomCropFlip(
  images: Uint8Array,
  count: number,
  shape: readonly [number, number, number],
  rng: Rng,
  options: AugmentOptions = {},
): AugmentResult {
  const fn = 'randomCropFlip';
  const { padding, flipProbability } = { ...DEFAULT_AUGMENT, ...options };
  if (!(Number.isInteger(padding) && padding >= 0)) {
    throw new PatchcertError('INVALID_OPTION', mustBe(fn, 'options.padding', 'an integer >= 0', String(padding)));
  }
  if (!(flipProbability >= 0 && flipProbability <= 1)) {
    throw new PatchcertError('INVALID_OPTION', mustBe(fn, 'options.flipProbability', 'in [0, 1]', String(flipProbability)));
  }
  const [h, w, c] = shape;
  const size = h * w * c;
  if (images.length !== count * size) {
    throw new PatchcertError('SHAPE_MISMATCH', mustBe(fn, 'images.length', `${count}*${h}*${w}*${c} = ${count * size}`, String(images.length)));
  }
  const out = new Uint8Array(images.length);
  const flipped = new Uint8Array(count);
  const offsets = new Int32Array(count * 2);
  for (let n = 0; n < count; n++) {
    const flip = rng.next() < flipProbability;
    const dy = padding > 0 ? rng.int(2 * padding + 1) - padding : 0;
    const dx = padding > 0 ? rng.int(2 * padding + 1) - padding : 0;
    flipped[n] = flip ? 1 : 0;
    offsets[2 * n] = dy;
    offsets[2 * n + 1] = dx;
    const base = n * size;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue; // padded rows stay 0
      for (let x = 0; x < w; x++) {
        const fx = x + dx;
        if (fx < 0 || fx >= w) continue;
        const sx = flip ? w - 1 - fx : fx;
        const src = base + (sy * w + sx) * c;
        const dst = base + (y * w + x) * c;
        for (let k = 0; k < c; k++) out[dst + k] = images[src + k]!;
      }
    }
  }
  return { images: out, flipped, offsets };
}
