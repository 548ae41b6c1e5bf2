import { tf, PatchcertError } from '@patchcert/backend';
import type { Defense } from './defense.js';
import { normalizedGradientMagnitude } from './internal/image-ops.js';
import { checkInt, checkNumber, checkKeys } from './internal/inputs.js';
import { describe } from './patch-geometry.js';

/** Options of {@link localGradientSmoothing}; all optional. */
export interface LocalGradientSmoothingOptions {
  /**
   * Side of the square windows the gradient map is cut into. Naseer et al. use 15 px on
   * 299 px ImageNet images; 5 px keeps a comparable share of a 28–32 px image.
   * @defaultValue 5
   */
  window?: number;
  /** Stride between windows (overlapping windows when below `window`). @defaultValue 2 */
  stride?: number;
  /**
   * A window is kept as a likely patch region when its mean normalised gradient magnitude
   * exceeds this; elsewhere the gradient map is zeroed. Naseer et al.: 0.1.
   * @defaultValue 0.1
   */
  threshold?: number;
  /** Smoothing strength λ in x̂ = x ⊙ (1 − clip(λ·g, 0, 1)). Naseer et al.: 2.3. @defaultValue 2.3 */
  lambda?: number;
}

/** The defaults of {@link localGradientSmoothing}, chosen for 28×28 MNIST and 32×32 CIFAR. */
export const DEFAULT_LGS = { window: 5, stride: 2, threshold: 0.2, lambda: 1 } as const;

/**
 * Pixel gate `[B,H,W,1]`: 1 on pixels covered by at least one window whose mean of `g` exceeds
 * the threshold. Windows start every `stride` pixels and the last one is shifted to end at the
 * border, so the whole image is covered. Computed on the host from a copy of `g`, so it is a
 * constant for gradients: the selection is piecewise constant, its derivative zero almost
 * everywhere.
 */
function windowGate(g: tf.Tensor4D, window: number, stride: number, threshold: number): tf.Tensor4D {
  const [B, H, W] = g.shape;
  const v = g.dataSync();
  const wh = Math.min(window, H);
  const ww = Math.min(window, W);
  const starts = (n: number, w: number): number[] => {
    const s: number[] = [];
    for (let i = 0; i + w <= n; i += stride) s.push(i);
    if (s[s.length - 1] !== n - w) s.push(n - w);
    return s;
  };
  const rs = starts(H, wh);
  const cs = starts(W, ww);
  const gate = new Float32Array(B * H * W);
  const integral = new Float64Array((H + 1) * (W + 1));
  const cover = new Int32Array((H + 1) * (W + 1));
  for (let b = 0; b < B; b++) {
    const o = b * H * W;
    for (let i = 0; i < H; i++) {
      let row = 0;
      for (let j = 0; j < W; j++) {
        row += v[o + i * W + j]!;
        integral[(i + 1) * (W + 1) + j + 1] = integral[i * (W + 1) + j + 1]! + row;
      }
    }
    cover.fill(0);
    for (const r of rs) {
      for (const c of cs) {
        const sum = integral[(r + wh) * (W + 1) + c + ww]! - integral[r * (W + 1) + c + ww]! - integral[(r + wh) * (W + 1) + c]! + integral[r * (W + 1) + c]!;
        if (sum / (wh * ww) > threshold) {
          cover[r * (W + 1) + c]! += 1;
          cover[r * (W + 1) + c + ww]! -= 1;
          cover[(r + wh) * (W + 1) + c]! -= 1;
          cover[(r + wh) * (W + 1) + c + ww]! += 1;
        }
      }
    }
    // 2-D prefix sum of the difference array gives how many selected windows cover each pixel.
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < W; j++) {
        const k = i * (W + 1) + j;
        const up = i > 0 ? cover[k - (W + 1)]! : 0;
        const left = j > 0 ? cover[k - 1]! : 0;
        const diag = i > 0 && j > 0 ? cover[k - (W + 1) - 1]! : 0;
        cover[k] = cover[k]! + up + left - diag;
        gate[o + i * W + j] = cover[k]! > 0 ? 1 : 0;
      }
    }
  }
  return tf.tensor4d(gate, [B, H, W, 1]);
}

/**
 * Local Gradient Smoothing (Naseer et al., 2019): x̂ = x ⊙ (1 − clip(λ·g(x), 0, 1)), where g is
 * the image-gradient magnitude normalised to [0,1], kept only inside windows whose mean
 * exceeds `threshold` (dense high-gradient regions, where a patch sits) and zero elsewhere.
 *
 * `apply` is differentiable through g (the window selection is treated as constant), so an
 * adaptive attack back-propagates through the smoothing, as the paper does to break it.
 *
 * @param options - see {@link LocalGradientSmoothingOptions}.
 * @returns the defense, named `LGS`.
 * @throws PatchcertError `INVALID_OPTION` for a bad option.
 * @example
 * const lgs = localGradientSmoothing({ lambda: 2.3 });
 * const logits = model.predict(lgs.apply(x));
 */
export function localGradientSmoothing(options: LocalGradientSmoothingOptions = {}): Defense & { options: Required<LocalGradientSmoothingOptions> } {
  const fn = 'localGradientSmoothing';
  if (options === null || typeof options !== 'object') throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: options must be an object, but got ${describe(options)}.`);
  checkKeys(options, Object.keys(DEFAULT_LGS), fn);
  const o: Required<LocalGradientSmoothingOptions> = { ...DEFAULT_LGS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, number>)[k] = v as number;
  checkInt(o.window, 'window', 1, fn);
  checkInt(o.stride, 'stride', 1, fn);
  checkNumber(o.threshold, 'threshold', 0, 1, fn);
  checkNumber(o.lambda, 'lambda', 0, Infinity, fn);
  return {
    name: 'LGS',
    options: o,
    apply(x: tf.Tensor4D): tf.Tensor4D {
      return tf.tidy('localGradientSmoothing', () => {
        const g = normalizedGradientMagnitude(x);
        const gate = windowGate(g, o.window, o.stride, o.threshold);
        const damp = tf.clipByValue(tf.mul(tf.mul(g, gate), o.lambda), 0, 1);
        return tf.mul(x, tf.sub(1, damp)) as tf.Tensor4D;
      });
    },
  };
}
