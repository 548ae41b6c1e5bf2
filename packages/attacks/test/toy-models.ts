// Hand-built linear classifiers whose vulnerable pixels are known exactly.
import { tf } from '@patchcert/backend';
import type { Classifier } from '@patchcert/attacks';

/**
 * Two classes on `size × size` one-channel images: logits `[bias, Σ_{p in pixels} x_p]`. A black
 * image is class 0; the attack must brighten the listed pixels past `bias` to flip it.
 */
export function pixelDetector(size: number, pixels: [number, number][], bias = 0.5): Classifier & { dispose(): void } {
  const w = new Float32Array(size * size);
  for (const [r, c] of pixels) w[r * size + c] = 1;
  const wT = tf.tensor2d(w, [size * size, 1]);
  const b = tf.scalar(bias);
  return {
    predict: (x) => tf.tidy(() => {
      const s = tf.matMul(tf.reshape(x, [x.shape[0], -1]), wT);
      return tf.concat([tf.mul(tf.onesLike(s), b), s], 1) as tf.Tensor2D;
    }),
    dispose: () => {
      wT.dispose();
      b.dispose();
    },
  };
}

/** `n` black `size × size` one-channel images. */
export function black(n: number, size: number): tf.Tensor4D {
  return tf.zeros([n, size, size, 1]);
}
