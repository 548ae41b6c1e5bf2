import { tf, PatchcertError } from '@patchcert/backend';
import type { Defense } from './defense.js';
import type { Classifier } from './classifier.js';
import { normalizedGradientMagnitude, divideByMax, detach } from './internal/image-ops.js';
import { checkInt, checkNumber, checkKeys } from './internal/inputs.js';
import { describe } from './patch-geometry.js';

/** Options of {@link digitalWatermarking}; all optional. */
export interface DigitalWatermarkingOptions {
  /**
   * Where the saliency map comes from. With a model: |∂ logit of the predicted class / ∂x|
   * summed over channels (Hayes's classifier saliency). Without one: the image-gradient
   * magnitude (central differences). On MNIST the classifier's saliency covers the whole digit
   * and no setting separated patches from strokes (clean accuracy fell before adversarial
   * accuracy rose); image gradients did, so they are the default.
   * @defaultValue undefined (image gradients)
   */
  model?: Classifier;
  /** A pixel is salient when its saliency, divided by the image's maximum, is at least this. @defaultValue 0.7 */
  saliencyThreshold?: number;
  /** Side of the square window over which salient pixels are counted. @defaultValue 3 */
  window?: number;
  /** A window is a dense (patch-like) region when at least this fraction of it is salient. @defaultValue 0.75 */
  density?: number;
  /** Pixels the detected region is grown by on each side before masking. @defaultValue 1 */
  dilation?: number;
  /** Diffusion passes that fill the masked pixels from their unmasked neighbours. @defaultValue 4 */
  inpaintIterations?: number;
}

/** The defaults of {@link digitalWatermarking} (without `model`), suited to 28–32 px images. */
export const DEFAULT_DW = { saliencyThreshold: 0.7, window: 3, density: 0.75, dilation: 1, inpaintIterations: 4 } as const;

type DwConfig = Omit<Required<DigitalWatermarkingOptions>, 'model'> & { model: Classifier | undefined };

/** Saliency `[B,H,W,1]` in [0,1] of a detached image batch. */
function saliency(x: tf.Tensor4D, model: Classifier | undefined): tf.Tensor4D {
  if (!model) return normalizedGradientMagnitude(x);
  return tf.tidy(() => {
    const classes = tf.argMax(model.predict(x), 1);
    const g = tf.grad((xs: tf.Tensor) => {
      const logits = model.predict(xs as tf.Tensor4D);
      return tf.sum(tf.mul(logits, tf.oneHot(classes, logits.shape[1]).toFloat()));
    })(x);
    return divideByMax(tf.sum(tf.abs(g), 3, true) as tf.Tensor4D);
  });
}

/** Removal mask `[B,H,W,1]` (1 = masked out) from dense regions of high saliency. */
export function watermarkMask(x: tf.Tensor4D, c: DwConfig): tf.Tensor4D {
  return tf.tidy(() => {
    const xd = detach(x);
    const s = saliency(xd, c.model);
    const hot = tf.step(tf.sub(s, c.saliencyThreshold - 1e-7));
    const dens = tf.avgPool(hot as tf.Tensor4D, [c.window, c.window], [1, 1], 'same');
    let region = tf.mul(tf.step(tf.sub(dens, c.density - 1e-6)), hot) as tf.Tensor4D;
    if (c.dilation > 0) {
      const k = 2 * c.dilation + 1;
      region = tf.maxPool(tf.maxPool(region, [c.window, c.window], [1, 1], 'same'), [k, k], [1, 1], 'same');
    }
    return region;
  });
}

/** Fills masked pixels by repeated averaging of known neighbours (a small diffusion inpainting). */
function inpaint(x: tf.Tensor4D, mask: tf.Tensor4D, iterations: number): tf.Tensor4D {
  return tf.tidy(() => {
    let known = tf.sub(1, mask) as tf.Tensor4D;
    let y = tf.mul(x, known) as tf.Tensor4D;
    for (let i = 0; i < iterations; i++) {
      const num = tf.avgPool(tf.mul(y, known) as tf.Tensor4D, [3, 3], [1, 1], 'same');
      const den = tf.avgPool(known, [3, 3], [1, 1], 'same');
      const fill = tf.div(num, tf.add(den, 1e-8));
      const reached = tf.step(tf.sub(den, 1e-6));
      y = tf.add(tf.mul(y, known), tf.mul(tf.mul(fill, reached), tf.sub(1, known))) as tf.Tensor4D;
      known = tf.maximum(known, reached) as tf.Tensor4D;
    }
    return y;
  });
}

/**
 * Digital Watermarking (Hayes, 2018): find dense regions of large saliency (a patch draws the
 * classifier's attention to a few adjacent pixels), mask them out and inpaint them from their
 * surroundings.
 *
 * The masking is not differentiable, so `apply` uses BPDA (Athalye et al., 2018): the forward
 * pass is the defended image, the backward pass is the identity (`tf.customGrad`). This is how
 * the paper's adaptive attack breaks DW.
 *
 * @param options - see {@link DigitalWatermarkingOptions}.
 * @returns the defense, named `DW`.
 * @throws PatchcertError `INVALID_OPTION` for a bad option.
 * @example
 * const dw = digitalWatermarking({ model });
 * const logits = model.predict(dw.apply(x));
 */
export function digitalWatermarking(options: DigitalWatermarkingOptions = {}): Defense & { mask(x: tf.Tensor4D): tf.Tensor4D } {
  const fn = 'digitalWatermarking';
  if (options === null || typeof options !== 'object') throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: options must be an object, but got ${describe(options)}.`);
  checkKeys(options, ['model', ...Object.keys(DEFAULT_DW)], fn);
  const c: DwConfig = { ...DEFAULT_DW, model: undefined };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (c as Record<string, unknown>)[k] = v;
  if (c.model !== undefined && (c.model === null || typeof c.model.predict !== 'function')) {
    throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: model must be a classifier with predict(pixels), but got ${describe(c.model)}.`);
  }
  checkNumber(c.saliencyThreshold, 'saliencyThreshold', 0, 1, fn);
  checkInt(c.window, 'window', 1, fn);
  checkNumber(c.density, 'density', 0, 1, fn);
  checkInt(c.dilation, 'dilation', 0, fn);
  checkInt(c.inpaintIterations, 'inpaintIterations', 0, fn);
  // BPDA: the identity stands in for the masking's gradient.
  const masked = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const x = args[0] as tf.Tensor4D;
    const mask = args[1] as tf.Tensor4D;
    return {
      value: inpaint(x, mask, c.inpaintIterations),
      gradFunc: (dy: tf.Tensor) => [dy, tf.zerosLike(mask)],
    };
  });
  return {
    name: 'DW',
    mask: (x) => watermarkMask(x, c),
    apply(x: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy('digitalWatermarking', () => masked(x, watermarkMask(x, c)) as tf.Tensor4D);
    },
  };
}
