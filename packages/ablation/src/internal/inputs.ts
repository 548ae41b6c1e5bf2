import { tf, check } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';

/** Checks pixel images and a model built for their ablation encoding; returns [H, W, C]. */
export function checkModelAndImages(fn: string, model: SequentialModel, images: tf.Tensor4D): [number, number, number] {
  check(images instanceof tf.Tensor && images.rank === 4, 'SHAPE_MISMATCH', fn, 'images', 'a rank-4 tensor [batch, height, width, channels]', () =>
    images instanceof tf.Tensor ? `rank ${images.rank}` : typeof images,
  );
  const [, h, w, c] = images.shape;
  const [mh, mw, mc] = model.inputShape;
  check(
    mh === h && mw === w && mc === 2 * c,
    'SHAPE_MISMATCH',
    fn,
    "the model's inputShape",
    `[${h}, ${w}, ${2 * c}] (the ablation encoding doubles the channels)`,
    () => `[${model.inputShape}]`,
  );
  return [h, w, c];
}

/** Reads labels (array or int tensor) and checks their count and range. */
export function readLabels(fn: string, labels: ArrayLike<number> | tf.Tensor1D, count: number, numClasses: number): Int32Array {
  const out = labels instanceof tf.Tensor ? Int32Array.from(labels.dataSync()) : Int32Array.from(labels);
  check(out.length === count, 'SHAPE_MISMATCH', fn, 'labels', `${count} entries (one per image)`, () => String(out.length));
  for (let i = 0; i < out.length; i++) {
    const y = out[i]!;
    check(y >= 0 && y < numClasses, 'INVALID_ARGUMENT', fn, `labels[${i}]`, `a class in [0, ${numClasses - 1}]`, () => String(y));
  }
  return out;
}
