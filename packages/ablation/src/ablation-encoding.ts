import { op, tf, check } from '@patchcert/backend';

/**
 * Encodes ablated images so a classifier can tell an ablated pixel from a real value: every
 * channel value x of a kept pixel becomes the pair (x, 1 − x); an ablated pixel becomes (0, 0),
 * which no kept pixel produces (x and 1 − x cannot both be 0). The output has 2C channels: the
 * C channels of x first, then the C channels of 1 − x.
 *
 * @param images - pixel-space images `[batch, height, width, channels]` in [0,1].
 * @param keep - `[batch | 1, height, width, 1]`: 1 where a pixel is kept, 0 where it is ablated
 *   (a pixel is kept or ablated in all of its channels together).
 * @returns `[batch', height, width, 2·channels]` with batch' the broadcast batch size.
 * @throws PatchcertError SHAPE_MISMATCH when the mask does not fit the images.
 * @example
 * const x = encodeAblated(images, keepMask); // feed to a model built with inputShape [H, W, 2C]
 */
function encodeAblated_(images: tf.Tensor4D, keep: tf.Tensor4D): tf.Tensor4D {
  const [b, h, w] = images.shape;
  const [mb, mh, mw, mc] = keep.shape;
  check(
    mh === h && mw === w && mc === 1 && (mb === b || mb === 1 || b === 1),
    'SHAPE_MISMATCH',
    'encodeAblated',
    'keep',
    `[${b} or 1, ${h}, ${w}, 1] to fit images [${images.shape}]`,
    () => `[${keep.shape}]`,
  );
  const kept = tf.mul(images, keep);
  const inverse = tf.mul(tf.sub(1, images), keep);
  return tf.concat([kept, inverse], 3) as tf.Tensor4D;
}

export const encodeAblated = op({ encodeAblated_ });
