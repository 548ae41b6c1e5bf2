import { tf } from '@patchcert/backend';

/**
 * Central differences along x and y, (x[j+1] − x[j−1]) / 2, as one 2-output 3×3 convolution (fast
 * on wasm, unlike slices). Central, not forward, so both sides of an edge register: a patch
 * then lights up on all its borders.
 */
function differenceKernel(): tf.Tensor4D {
  // Built per call (18 floats) rather than cached, so callers' tensor counts stay exact.
  const k = new Float32Array(3 * 3 * 2);
  const at = (r: number, c: number, o: number): number => (r * 3 + c) * 2 + o;
  k[at(1, 0, 0)] = -0.5;
  k[at(1, 2, 0)] = 0.5;
  k[at(0, 1, 1)] = -0.5;
  k[at(2, 1, 1)] = 0.5;
  return tf.tensor4d(k, [3, 3, 1, 2]);
}

/** `[1,H,W,2]` mask: 0 where the x (channel 0) or y (channel 1) difference would reach past the border. */
function borderMask(H: number, W: number): tf.Tensor4D {
  const m = new Float32Array(H * W * 2);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      m[(i * W + j) * 2] = j > 0 && j < W - 1 ? 1 : 0;
      m[(i * W + j) * 2 + 1] = i > 0 && i < H - 1 ? 1 : 0;
    }
  }
  return tf.tensor4d(m, [1, H, W, 2]);
}

/**
 * Central-difference image-gradient magnitude of the channel mean, `[B,H,W,1]`, divided by its
 * per-image maximum so it lies in [0,1]. Differentiable in x; the per-image maximum is held
 * constant on the backward pass (a scalar per image; its own gradient is a sparse correction
 * that costs more than the rest of the smoothing on wasm).
 */
export function normalizedGradientMagnitude(x: tf.Tensor4D): tf.Tensor4D {
  const gray = x.shape[3] === 1 ? x : (tf.mean(x, 3, true) as tf.Tensor4D);
  // Zero padding would invent an edge along the border of any non-black image; drop the
  // difference across the border instead.
  const d = tf.mul(tf.conv2d(gray, differenceKernel(), 1, 'same'), borderMask(x.shape[1], x.shape[2]));
  // The small constant keeps the sqrt's gradient finite on flat regions.
  // The constant keeps the sqrt's gradient finite on flat regions; subtracting its root makes a
  // flat region exactly 0 again.
  const mag = tf.relu(tf.sub(tf.sqrt(tf.add(tf.sum(tf.square(d), 3, true), 1e-12)), 1e-6)) as tf.Tensor4D;
  return divideByMax(mag);
}

/**
 * v / max(v) per image (max held constant for gradients). A map whose maximum is below 1e-4
 * (a flat image) stays near 0 instead of being blown up to 1.
 */
export function divideByMax(v: tf.Tensor4D): tf.Tensor4D {
  const B = v.shape[0];
  const hi = detach(tf.max(tf.reshape(v, [B, -1]), 1));
  return tf.div(v, tf.reshape(tf.maximum(hi, 1e-4), [B, 1, 1, 1])) as tf.Tensor4D;
}

/** A copy of `x` with no link to any gradient tape (reads the values back). */
export function detach<T extends tf.Tensor>(x: T): T {
  return tf.tensor(x.dataSync() as Float32Array, x.shape, x.dtype) as T;
}
