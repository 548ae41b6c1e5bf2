import { tf, assert, type Normalization, isIdentityNormalization } from '@patchcert/backend';
import type { CenterRadius, Interval } from './interval.js';
import type { PatchThreat } from './patch-threat.js';
import { checkEps, checkImages } from './internal/validate.js';

/** Clean normalized images and, at every pixel, the normalized box it would get inside a patch. */
export type PixelBoxes = {
  /** Normalized clean images `[batch, h, w, c]`. */
  clean: tf.Tensor4D;
  /** Box `[max(0,x−eps), min(1,x+eps)]` normalized, in center/radius form, `[batch, h, w, c]`. */
  box: { mu: tf.Tensor4D; r: tf.Tensor4D };
};

function channelVector(values: readonly number[], c: number): number[] {
  return values.length === 1 ? new Array<number>(c).fill(values[0]!) : [...values];
}

/**
 * Builds {@link PixelBoxes}: each pixel's box at schedule value `eps` as if it were in the patch
 * (reference-spec §4.1), mapped through the per-channel normalization. The map is increasing
 * (std > 0), so it maps the pixel box to the normalized box exactly. The caller owns the result.
 */
export function pixelBoxes(pixels: tf.Tensor4D, eps: number, normalization: Normalization): PixelBoxes {
  return tf.tidy(() => {
    const c = pixels.shape[3];
    const lo = tf.maximum(tf.sub(pixels, eps), 0);
    const hi = tf.minimum(tf.add(pixels, eps), 1);
    const mid = tf.mul(tf.add(lo, hi), 0.5);
    const half = tf.mul(tf.sub(hi, lo), 0.5);
    if (isIdentityNormalization(normalization)) {
      return { clean: tf.clone(pixels), box: { mu: mid as tf.Tensor4D, r: half as tf.Tensor4D } };
    }
    const mean = tf.tensor1d(channelVector(normalization.mean, c));
    const inv = tf.div(1, tf.tensor1d(channelVector(normalization.std, c)));
    const norm = (t: tf.Tensor) => tf.mul(tf.sub(t, mean), inv);
    return {
      clean: norm(pixels) as tf.Tensor4D,
      box: { mu: norm(mid) as tf.Tensor4D, r: tf.mul(half, inv) as tf.Tensor4D },
    };
  });
}

/** Center/radius of the normalized boxes for one mask per row: clean off the mask, box on it. */
export function maskedBox(boxes: PixelBoxes, mask: tf.Tensor): CenterRadius {
  return tf.tidy(() => ({
    mu: tf.add(boxes.clean, tf.mul(mask, tf.sub(boxes.box.mu, boxes.clean))),
    r: tf.mul(mask, boxes.box.r),
  }));
}

/**
 * The normalized input box of every image for one patch location: patch pixels (all channels)
 * range over `[max(0, x − eps), min(1, x + eps)]`, other pixels keep their value; then the
 * model's normalization is applied (it maps a box to a box).
 *
 * @param images - pixel-space images `[batch, height, width, channels]` in [0,1].
 * @param threat - the patch threat.
 * @param location - location index (row-major over top-left corners).
 * @param eps - schedule value in [0, 1].
 * @param normalization - per-channel mean/std (the model's `metadata.normalization`).
 * @returns `Interval` `[batch, height, width, channels]` in normalized space (caller disposes).
 * @throws PatchcertError `INVALID_ARGUMENT` when the patch does not fit or the location is out
 *   of range.
 */
export function inputBox(images: tf.Tensor4D, threat: PatchThreat, location: number, eps: number, normalization: Normalization): Interval {
  checkImages(images, 'inputBox');
  checkEps(eps, 'inputBox');
  const [, h, w] = images.shape;
  threat.validate(h, w, 'inputBox');
  const mask = threat.maskAt(location, h, w);
  assert(normalization && Array.isArray(normalization.mean), () => 'Error in inputBox: normalization must be { mean, std }, but got ' + String(normalization) + '.');
  return tf.tidy(() => {
    const boxes = pixelBoxes(images, eps, normalization);
    const m = tf.tensor4d(Float32Array.from(mask), [1, h, w, 1]);
    const cr = maskedBox(boxes, m);
    return { lower: tf.sub(cr.mu, cr.r), upper: tf.add(cr.mu, cr.r) };
  });
}
