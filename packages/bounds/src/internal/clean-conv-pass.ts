import { tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';

/**
 * The clean activations of the conv part of a model, as rows of channels (a type alias, not an
 * interface, so it is a tfjs TensorContainer that tf.tidy can return).
 */
export type CleanConvPass = {
  /** `padded[i]`: conv layer i's zero-padded input `[batch · paddedH · paddedW, inChannels]` (unset for relu layers). */
  padded: tf.Tensor2D[];
  /** `acts[i]`: layer i's output `[batch · outH · outW, channels]`. */
  acts: tf.Tensor2D[];
};

/**
 * Runs the clean images through the layers before the flatten once per batch, keeping each
 * conv's padded input and every layer's output: the conv-window plans read the clean values
 * there, outside each row's changed window. Call inside a tidy scope; the caller disposes.
 *
 * @param model - conv and relu layers up to `flatIdx`.
 * @param clean - the clean images `[batch, height, width, channels]`.
 * @param flatIdx - the index of the flatten layer.
 */
export function cleanConvPass(model: SequentialModel, clean: tf.Tensor4D, flatIdx: number): CleanConvPass {
  const padded: tf.Tensor2D[] = [];
  const acts: tf.Tensor2D[] = [];
  let act: tf.Tensor = clean;
  for (let i = 0; i < flatIdx; i++) {
    const layer = model.layers[i]!;
    if (layer.type === 'conv2d') {
      const [pt, pb, pl, pr] = layer.padding;
      const p = tf.pad(act, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
      padded[i] = tf.reshape(p, [-1, act.shape[3]!]) as tf.Tensor2D;
      act = tf.add(tf.conv2d(p as tf.Tensor4D, model.weights[i]!.kernel as tf.Tensor4D, layer.strides, 'valid'), model.weights[i]!.bias);
    } else {
      act = tf.relu(act);
    }
    acts[i] = tf.reshape(act, [-1, act.shape[3]!]) as tf.Tensor2D;
  }
  return { padded, acts };
}
