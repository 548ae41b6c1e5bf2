import { tf, op, PatchcertError, type Normalization } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { CenterRadius } from './interval.js';
import { topkSum } from './internal/topk-sum.js';

function channelStd(norm: Normalization, c: number): number[] {
  return norm.std.length === 1 ? new Array<number>(c).fill(norm.std[0]!) : [...norm.std];
}

/** Index of the first affine layer (0 for a conv, 1 for flatten → dense). */
export function firstAffineLayer(model: SequentialModel): number {
  const i = model.layers.findIndex((l) => l.type === 'dense' || l.type === 'conv2d');
  const ok = i === 0 ? model.layers[0]!.type === 'conv2d' : i === 1 && model.layers[0]!.type === 'flatten';
  if (!ok) {
    throw new PatchcertError('UNSUPPORTED_LAYER', `Error in sparseFirstLayerBounds: the model must start with conv2d or flatten → dense, but starts with ${model.layers.slice(0, 2).map((l) => l.type).join(' → ')}.`);
  }
  return i;
}

const sparseFirstLayerBounds_ = (model: SequentialModel, pixels: tf.Tensor4D, k: number, eps: number, tight: boolean): CenterRadius => {
  const [batch, h, w, c] = pixels.shape;
  const norm = model.metadata.normalization;
  const std = channelStd(norm, c);
  const mean = norm.mean.length === 1 ? new Array<number>(c).fill(norm.mean[0]!) : norm.mean;
  const xn = tf.div(tf.sub(pixels, tf.tensor1d(mean)), tf.tensor1d(std)) as tf.Tensor4D;
  const first = firstAffineLayer(model);
  const layer = model.layers[first]!;
  const { kernel, bias } = model.weights[first]!;

  if (!tight) {
    // Paper (reference-spec §9): one normalized input moves by at most ε̂ = max_c eps/std_c, so a
    // unit moves by at most ε̂ times the k largest per-pixel weight masses Σ_c|W|.
    const epsHat = Math.max(...std.map((s) => eps / s));
    if (layer.type === 'conv2d') {
      const [kh, kw] = layer.kernelSize;
      const o = layer.filters;
      const mass = tf.transpose(tf.sum(tf.reshape(tf.abs(kernel), [kh * kw, c, o]), 1)); // [O, taps]
      const dev = tf.mul(topkSum(mass, k), epsHat); // [O]
      const [pt, pb, pl, pr] = layer.padding;
      const mu = tf.add(tf.conv2d(xn, kernel as tf.Tensor4D, layer.strides, [[0, 0], [pt, pb], [pl, pr], [0, 0]]), bias);
      return { mu, r: tf.mul(tf.onesLike(mu), dev) };
    }
    const units = kernel.shape[1]!;
    // The sound pixel version: a pixel carries all its channels (reference-spec Q13).
    const mass = tf.transpose(tf.sum(tf.reshape(tf.abs(kernel), [h * w, c, units]), 1)); // [U, pixels]
    const dev = tf.mul(topkSum(mass, k), epsHat);
    const mu = tf.add(tf.matMul(tf.reshape(xn, [batch, -1]), kernel as tf.Tensor2D), bias);
    return { mu, r: tf.mul(tf.onesLike(mu), dev) };
  }

  // Tight per-image bound: pixel p of channel c can move up by up = (min(1,x+eps) − x)/std_c
  // and down by dn = (x − max(0,x−eps))/std_c, both ≥ 0. Its largest possible increase of unit o
  // is Σ_c W⁺·up + W⁻·dn and its largest decrease Σ_c W⁺·dn + W⁻·up; k changed pixels move the
  // unit by at most the sum of the k largest of these (each term ≥ 0), per direction.
  const inv = tf.div(1, tf.tensor1d(std));
  const up = tf.mul(tf.sub(tf.minimum(tf.add(pixels, eps), 1), pixels), inv);
  const dn = tf.mul(tf.sub(pixels, tf.maximum(tf.sub(pixels, eps), 0)), inv);
  const kPos = tf.relu(kernel);
  const kNeg = tf.relu(tf.neg(kernel));
  let upDev: tf.Tensor;
  let dnDev: tf.Tensor;
  let center: tf.Tensor;
  if (layer.type === 'conv2d') {
    const [kh, kw] = layer.kernelSize;
    const [sh, sw] = layer.strides;
    const [pt, pb, pl, pr] = layer.padding;
    const o = layer.filters;
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [pt, pb], [pl, pr], [0, 0]];
    center = tf.add(tf.conv2d(xn, kernel as tf.Tensor4D, layer.strides, pad), bias);
    const [ho, wo] = center.shape.slice(1, 3) as [number, number];
    // Padding is not a pixel: it moves by 0, so it is padded with zeros here.
    const upP = tf.pad(up, pad);
    const dnP = tf.pad(dn, pad);
    const ups: tf.Tensor[] = [];
    const dns: tf.Tensor[] = [];
    for (let a = 0; a < kh; a++) {
      for (let b = 0; b < kw; b++) {
        const size = [batch, (ho - 1) * sh + 1, (wo - 1) * sw + 1, c];
        const us = tf.slice(upP, [0, a, b, 0], size) as tf.Tensor4D;
        const ds = tf.slice(dnP, [0, a, b, 0], size) as tf.Tensor4D;
        const kp = tf.reshape(tf.slice(kPos, [a, b, 0, 0], [1, 1, c, o]), [1, 1, c, o]) as tf.Tensor4D;
        const kn = tf.reshape(tf.slice(kNeg, [a, b, 0, 0], [1, 1, c, o]), [1, 1, c, o]) as tf.Tensor4D;
        ups.push(tf.add(tf.conv2d(us, kp, [sh, sw], 'valid'), tf.conv2d(ds, kn, [sh, sw], 'valid')));
        dns.push(tf.add(tf.conv2d(ds, kp, [sh, sw], 'valid'), tf.conv2d(us, kn, [sh, sw], 'valid')));
      }
    }
    upDev = topkSum(tf.stack(ups, -1), k);
    dnDev = topkSum(tf.stack(dns, -1), k);
  } else {
    const units = kernel.shape[1]!;
    center = tf.add(tf.matMul(tf.reshape(xn, [batch, -1]), kernel as tf.Tensor2D), bias);
    const kp = tf.reshape(kPos, [h * w, c, units]);
    const kn = tf.reshape(kNeg, [h * w, c, units]);
    let uSum: tf.Tensor | null = null;
    let dSum: tf.Tensor | null = null;
    for (let ch = 0; ch < c; ch++) {
      const kpc = tf.reshape(tf.slice(kp, [0, ch, 0], [h * w, 1, units]), [1, h * w, units]);
      const knc = tf.reshape(tf.slice(kn, [0, ch, 0], [h * w, 1, units]), [1, h * w, units]);
      const uc = tf.reshape(tf.slice(up, [0, 0, 0, ch], [batch, h, w, 1]), [batch, h * w, 1]);
      const dc = tf.reshape(tf.slice(dn, [0, 0, 0, ch], [batch, h, w, 1]), [batch, h * w, 1]);
      const u = tf.add(tf.mul(kpc, uc), tf.mul(knc, dc));
      const d = tf.add(tf.mul(kpc, dc), tf.mul(knc, uc));
      uSum = uSum ? tf.add(uSum, u) : u;
      dSum = dSum ? tf.add(dSum, d) : d;
    }
    upDev = topkSum(tf.transpose(uSum!, [0, 2, 1]), k); // [B, U]
    dnDev = topkSum(tf.transpose(dSum!, [0, 2, 1]), k);
  }
  return { mu: tf.add(center, tf.mul(tf.sub(upDev, dnDev), 0.5)), r: tf.mul(tf.add(upDev, dnDev), 0.5) };
};

/**
 * Bounds of the first affine layer's output under the sparse threat (any k pixels, each in
 * `[max(0,x−eps), min(1,x+eps)]`), in center/radius form. Later layers use plain interval rules.
 *
 * - `tight = false`, the paper's bound (reference-spec §9): center = clean output, radius
 *   ε̂·(sum of the k largest Σ_c|W| over kernel taps (conv) or pixels (dense)), ε̂ = max_c eps/std_c.
 *   For dense layers this is the sound *pixel* version (k pixels across channels, Q13).
 * - `tight = true`: per image and unit, the k largest per-pixel possible increases (and,
 *   separately, decreases), using how far each pixel can really move from its value. Each
 *   per-pixel term is ≤ ε̂·Σ_c|W|, so this box lies inside the paper's.
 *
 * @param pixels - pixel images `[batch, h, w, c]` in [0,1].
 * @returns center/radius after the first affine layer (differentiable w.r.t. the weights).
 */
export const sparseFirstLayerBounds = op({ sparseFirstLayerBounds_ });
