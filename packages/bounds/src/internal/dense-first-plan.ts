import { tf, windowSums, PcReluElidedMargins, PcWindowSums } from '@patchcert/backend';
import type { PatchThreat } from '../patch-threat.js';
import { propagateCenterRadius } from '../propagate-interval.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import type { MarginPlan, PreparedBatch, RowOrigins } from './prepared.js';
import { fusedDenseFirstPlan } from './fused-dense-first-plan.js';
import { imagesEqual } from './batch.js';
import { windowTaps } from './window-taps.js';

/**
 * Fast exact plan for models that start with flatten → dense (the MLP).
 *
 * A patch changes only its own pixels, so the first dense layer's center at a location is the
 * clean output plus Σ_{p ∈ patch} Σ_c Δμ[p,c]·W[p,c,:], and its radius Σ_{p ∈ patch} Σ_c
 * r[p,c]·|W|[p,c,:] (Δμ = box center − clean value, r = box radius, both known at every pixel
 * before we know where the patch is). We form the per-pixel terms P_μ, P_r `[B, H, W, units]`
 * once per image and sum them over each patch window for all locations at once (a sum-pool for
 * rectangles, a convolution with the stencil for other shapes). Every location then costs only
 * the layers after the first.
 */
export function denseFirstPlan(prep: PreparedBatch, threat: PatchThreat, differentiable: boolean): MarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const dense = model.weights[1]!;
  const units = dense.kernel.shape[1]!;
  const [gh, gw] = threat.grid(h, w);
  const last = model.layers.length - 1;

  // One hidden layer (the paper's MLP) without gradients, where the backend has the fused kernels.
  const hasKernels = [PcReluElidedMargins, PcWindowSums].every((k) => tf.getKernel(k, tf.getBackend()) !== undefined);
  if (!differentiable && prep.hostLabels !== undefined && last === 3 && model.layers[2]?.type === 'relu' && hasKernels) return fusedDenseFirstPlan(prep, threat);
  const pre = denseFirstTerms(prep, threat, differentiable);

  let muData: Float32Array | null = null;
  let rData: Float32Array | null = null;
  const hostMu = () => (muData ??= pre.sMu.dataSync() as Float32Array);
  const hostR = () => (rData ??= pre.sR.dataSync() as Float32Array);

  return {
    rowCost: Math.max(units, ...model.shapes.slice(2).map((s) => s.reduce((a, b) => a * b, 1))),
    margins(origins: RowOrigins): tf.Tensor3D {
      return tf.tidy(() => {
        const k = origins.perImage;
        const idx = new Int32Array(batch * k);
        for (let i = 0; i < idx.length; i++) idx[i] = Math.floor(i / k) * gh * gw + origins.rows[i]! * gw + origins.cols[i]!;
        const sel = (src: tf.Tensor2D, host: () => Float32Array) => selectRows(src, idx, batch, k, gh * gw, differentiable, host);
        const mu = tf.add(sel(pre.sMu, hostMu), tf.expandDims(pre.clean0, 1));
        const r = tf.reshape(sel(pre.sR, hostR), [batch * k, units]);
        const box = propagateCenterRadius(model, { mu: tf.reshape(mu, [batch * k, units]), r }, 2, last);
        return elidedMarginsCenterRadius(model, box, onehot, prep.hostLabels);
      });
    },
    dispose() {
      tf.dispose(pre);
    },
  };
}

/**
 * The first dense layer at every location of the grid, as the clean output plus the patch's
 * box-sum term (see {@link denseFirstPlan}): `clean0` `[batch, units]`, and the center and radius
 * terms `sMu`, `sR` `[batch · locations, units]` (row-major locations). The caller disposes them.
 */
export function denseFirstTerms(prep: PreparedBatch, threat: PatchThreat, differentiable: boolean): { clean0: tf.Tensor; sMu: tf.Tensor2D; sR: tf.Tensor2D } {
  const { model, boxes } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const dense = model.weights[1]!;
  const units = dense.kernel.shape[1]!;
  const [gh, gw] = threat.grid(h, w);
  if (!differentiable && tf.getKernel(PcWindowSums, tf.getBackend()) !== undefined) return windowTerms(prep, threat);
  return tf.tidy(() => {
    // For rectangles the sum-pool is an average pool times the area; the area is folded into
    // the (small) kernel instead of the (large) pooled maps.
    const area = threat.isRectangle ? threat.height * threat.width : 1;
    const kernel = tf.reshape(area === 1 ? dense.kernel : tf.mul(dense.kernel, area), [h, w, c, units]);
    const absKernel = tf.abs(kernel);
    const clean0 = tf.add(tf.matMul(tf.reshape(boxes.clean, [batch, h * w * c]), dense.kernel as tf.Tensor2D), dense.bias); // [B, U]
    const delta = tf.sub(boxes.box.mu, boxes.clean);
    // With eps ≥ 1 (certification's default) every pixel's radius is the same in every image
    // (half the [0,1] range, normalized), so the radius term's product and window sum run for
    // one image and are repeated. Only without gradients (a host check of the radii).
    const sharedR = !differentiable && batch > 1 && imagesEqual(boxes.box.r.dataSync() as Float32Array, batch);
    const rIn = sharedR ? tf.slice(boxes.box.r, [0, 0, 0, 0], [1, h, w, c]) : boxes.box.r;
    let pMu: tf.Tensor | null = null;
    let pR: tf.Tensor | null = null;
    for (let ch = 0; ch < c; ch++) {
      // One channel needs no slicing (tfjs-wasm's slice copies slowly).
      const pick = (t: tf.Tensor, kernelLike: boolean): tf.Tensor =>
        c === 1 ? t : kernelLike ? tf.slice(t, [0, 0, ch, 0], [h, w, 1, units]) : tf.slice(t, [0, 0, 0, ch], [t.shape[0]!, h, w, 1]);
      const kc = tf.reshape(pick(kernel, true), [1, h, w, units]);
      const akc = tf.reshape(pick(absKernel, true), [1, h, w, units]);
      const tm = tf.mul(pick(delta, false), kc);
      const tr = tf.mul(pick(rIn, false), akc);
      pMu = pMu ? tf.add(pMu, tm) : tm;
      pR = pR ? tf.add(pR, tr) : tr;
    }
    const windowSum = (p: tf.Tensor): tf.Tensor2D => {
      if (!differentiable) {
        // A depthwise conv with the stencil on every unit: one pass, no transposes and none of
        // avgPool's trailing cast (wasm has no depthwise input gradient, hence not in training).
        const taps = threat.height * threat.width;
        const f = new Float32Array(taps * units);
        for (let t = 0; t < taps; t++) if (threat.stencil[t]) f.fill(1 / area, t * units, (t + 1) * units);
        const s = tf.depthwiseConv2d(p as tf.Tensor4D, tf.tensor4d(f, [threat.height, threat.width, units, 1]), 1, 'valid');
        // One image's terms repeated: concat copies whole blocks (wasm's tile kernel is ~50× slower).
        return tf.reshape(p.shape[0] === batch ? s : tf.concat(Array.from({ length: batch }, () => s), 0), [batch * gh * gw, units]);
      }
      if (threat.isRectangle) {
        const s = tf.avgPool(p as tf.Tensor4D, [threat.height, threat.width], 1, 'valid');
        return tf.reshape(s, [batch * gh * gw, units]);
      }
      const planes = tf.reshape(tf.transpose(p, [0, 3, 1, 2]), [batch * units, h, w, 1]) as tf.Tensor4D;
      const stencil = tf.tensor4d(Float32Array.from(threat.stencil), [threat.height, threat.width, 1, 1]);
      const s = tf.conv2d(planes, stencil, 1, 'valid');
      return tf.reshape(tf.transpose(tf.reshape(s, [batch, units, gh * gw]), [0, 2, 1]), [batch * gh * gw, units]);
    };
    return { clean0, sMu: windowSum(pMu!), sR: windowSum(pR!) };
  });
}

/**
 * Rows `idx` (image-major, `k` per image, each in image b's block of `g` rows) of `src`
 * `[batch · g, units]`, as `[batch, k, units]`. tfjs-wasm's gather kernel is slow, so: a slice
 * when every image takes the same contiguous run of locations (certify's passes), a host copy
 * when no gradient is needed, and otherwise a one-hot batched matmul (its gradient is a matmul).
 */
function selectRows(src: tf.Tensor2D, idx: Int32Array, batch: number, k: number, g: number, differentiable: boolean, host: () => Float32Array): tf.Tensor3D {
  const units = src.shape[1];
  const first = idx[0]!;
  let sharedRun = first + k <= g;
  for (let b = 0; b < batch && sharedRun; b++) for (let j = 0; j < k && sharedRun; j++) sharedRun = idx[b * k + j] === b * g + first + j;
  if (sharedRun && first === 0 && k === g) return tf.reshape(src, [batch, g, units]) as tf.Tensor3D;
  if (sharedRun) return tf.slice(tf.reshape(src, [batch, g, units]), [0, first, 0], [batch, k, units]) as tf.Tensor3D;
  if (!differentiable) {
    const data = host();
    const out = new Float32Array(batch * k * units);
    for (let i = 0; i < batch * k; i++) out.set(data.subarray(idx[i]! * units, (idx[i]! + 1) * units), i * units);
    return tf.tensor3d(out, [batch, k, units]);
  }
  const onehot = new Float32Array(batch * k * g);
  for (let i = 0; i < batch * k; i++) onehot[i * g + (idx[i]! - Math.floor(i / k) * g)] = 1;
  return tf.matMul(tf.tensor3d(onehot, [batch, k, g]), tf.reshape(src, [batch, g, units]) as tf.Tensor3D);
}

/**
 * {@link denseFirstTerms} without gradients through the fused PcWindowSums kernel: each
 * location's rows of the kernel (and of |kernel|) scaled by the window's center changes (radii)
 * and summed, with no per-pixel products in between (those cost a broadcasting multiply and a
 * depthwise conv, each writing `[batch, h, w, units]`).
 */
function windowTerms(prep: PreparedBatch, threat: PatchThreat): { clean0: tf.Tensor; sMu: tf.Tensor2D; sR: tf.Tensor2D } {
  const { model, boxes } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const dense = model.weights[1]!;
  const units = dense.kernel.shape[1]!;
  const [gh, gw] = threat.grid(h, w);
  const taps = windowTaps(threat, w, c);
  const first = Int32Array.from({ length: gh * gw }, (_, l) => (Math.floor(l / gw) * w + (l % gw)) * c);
  return tf.tidy(() => {
    const kernel = dense.kernel as tf.Tensor2D; // [h·w·c, units], rows in NHWC feature order
    const flat = (t: tf.Tensor) => tf.reshape(t, [t.shape[0]!, h * w * c]) as tf.Tensor2D;
    const origins = tf.tensor2d(first, [1, gh * gw], 'int32');
    const clean0 = tf.add(tf.matMul(flat(boxes.clean), kernel), dense.bias); // [B, U]
    const sMu = tf.reshape(windowSums(flat(tf.sub(boxes.box.mu, boxes.clean)), kernel, origins, taps), [batch * gh * gw, units]) as tf.Tensor2D;
    // With eps ≥ 1 every image has the same radii (see denseFirstTerms): one image's sums.
    const sharedR = batch > 1 && imagesEqual(boxes.box.r.dataSync() as Float32Array, batch);
    const rIn = sharedR ? tf.slice(boxes.box.r, [0, 0, 0, 0], [1, h, w, c]) : boxes.box.r;
    const s = tf.reshape(windowSums(flat(rIn), tf.abs(kernel), origins, taps), [-1, units]) as tf.Tensor2D;
    const sR = sharedR ? (tf.concat(Array.from({ length: batch }, () => s), 0) as tf.Tensor2D) : s;
    return { clean0, sMu, sR };
  });
}
