import { op, tf, check, type Rng } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { encodeAblated } from './ablation-encoding.js';
import { identityPermutation } from './ablation-masks.js';
import { sampleTrainingMasks, type AblationMode } from './train-ablation.js';

/**
 * Margins z_y − z_j of the base classifier on one fresh ablation per image, `0` in the label's
 * slot: the shape a trainer's margin strategy returns. The trainer's loss CE(−m, y) then equals
 * plain cross-entropy on the ablated images (softmax ignores the shift by z_y), so an ablation
 * base classifier can be trained by the IBP training loop with this as its strategy.
 *
 * @param model - built for `[H, W, 2C]`.
 * @param images - pixel images `[batch, height, width, channels]`.
 * @param labels - `[batch]` int32 classes.
 * @param mode - the ablation family to draw from.
 * @param rng - the generator of the draws (the trainer's run generator).
 * @returns `[batch, classes]`, differentiable with respect to the model's variables.
 * @throws PatchcertError SHAPE_MISMATCH for a model without the doubled channels.
 */
function ablationMargins_(model: SequentialModel, images: tf.Tensor4D, labels: tf.Tensor1D, mode: AblationMode, rng: Rng): tf.Tensor2D {
  const [b, h, w, c] = images.shape;
  const [mh, mw, mc] = model.inputShape;
  check(mh === h && mw === w && mc === 2 * c, 'SHAPE_MISMATCH', 'ablationMargins', "the model's inputShape", `[${h}, ${w}, ${2 * c}]`, () => `[${model.inputShape}]`);
  const masks = new Float32Array(b * h * w);
  sampleTrainingMasks(mode, rng, masks, b, h, w, identityPermutation(h * w));
  const logits = model.predict(encodeAblated(images, tf.tensor4d(masks, [b, h, w, 1])));
  const zy = tf.sum(tf.mul(logits, tf.oneHot(tf.cast(labels, 'int32'), model.numClasses)), 1, true);
  return tf.sub(zy, logits) as tf.Tensor2D;
}

export const ablationMargins = op({ ablationMargins_ });
