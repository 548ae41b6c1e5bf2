import { tf } from '@patchcert/backend';
import type { Conv2DSpec } from '@patchcert/models';
import type { PatchThreat } from '../patch-threat.js';
import { propagateCenterRadius } from '../propagate-interval.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import { intervalRelu } from '../interval-relu.js';
import type { MarginPlan, PreparedBatch, RowOrigins } from './prepared.js';

/** Geometry of one conv layer of the window stage (sizes are the same for every location). */
interface ConvStep {
  kind: 'conv';
  layer: number;
  spec: Conv2DSpec;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  /** Size of the changed window entering the layer. */
  winH: number;
  winW: number;
  /** Size of the output window: it covers every output whose receptive field meets the input window. */
  oH: number;
  oW: number;
  /** Input region (padded coordinates) the output window reads: (o−1)·s + k. */
  regH: number;
  regW: number;
}

type Step = ConvStep | { kind: 'relu'; layer: number };

/** First output index whose receptive field can meet input index `a`, clamped so the window fits. */
function windowStart(a: number, pad: number, k: number, s: number, out: number, size: number): number {
  const first = Math.ceil((a + pad - k + 1) / s);
  return Math.min(Math.max(first, 0), out - size);
}

/**
 * Fast exact plan for models that start with convolutions (every CNN of the paper).
 *
 * A patch changes only its own pixels; after a conv layer the outputs that differ from the
 * clean activations are those whose receptive field meets the changed window, a window that
 * grows by the kernel and shrinks by the stride layer after layer. Each row therefore carries
 * only a small window of (center, radius) per layer, placed at a per-location offset; outside
 * it the activations equal the clean ones (radius 0), computed once per image.
 *
 * To apply a conv layer we assemble, for each row, the exact input region its output window
 * reads (clean padded activations, overwritten by the row's window where they overlap) with one
 * gather, and run a 'valid' conv with the layer's stride: the result equals the full conv at
 * those outputs. ReLU acts on the window alone. At the flatten we assemble the full map the
 * same way and continue with plain interval rules for the dense layers.
 */
export function convWindowPlan(prep: PreparedBatch, threat: PatchThreat): MarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const flatIdx = model.layers.findIndex((l) => l.type === 'flatten');
  const last = model.layers.length - 1;

  // Window geometry, layer by layer.
  const steps: Step[] = [];
  let shape: readonly number[] = [h, w, c];
  let winH = threat.height;
  let winW = threat.width;
  for (let i = 0; i < flatIdx; i++) {
    const layer = model.layers[i]!;
    if (layer.type === 'relu') {
      steps.push({ kind: 'relu', layer: i });
    } else if (layer.type === 'conv2d') {
      const [kh, kw] = layer.kernelSize;
      const [sh, sw] = layer.strides;
      const out = model.shapes[i]!;
      const oH = Math.min(out[0]!, Math.floor((winH + kh - 2) / sh) + 1);
      const oW = Math.min(out[1]!, Math.floor((winW + kw - 2) / sw) + 1);
      steps.push({
        kind: 'conv', layer: i, spec: layer, inH: shape[0]!, inW: shape[1]!, inC: shape[2]!, outH: out[0]!, outW: out[1]!,
        winH, winW, oH, oW, regH: (oH - 1) * sh + kh, regW: (oW - 1) * sw + kw,
      });
      winH = oH;
      winW = oW;
    }
    shape = model.shapes[i]!;
  }
  const [fh, fw, fc] = shape as [number, number, number];

  // Clean activations once per image: padded inputs of every conv, and the map at the flatten.
  const pre = tf.tidy(() => {
    const padded: tf.Tensor2D[] = [];
    let act: tf.Tensor = boxes.clean;
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
    }
    const input = {
      clean: tf.reshape(boxes.clean, [-1, c]) as tf.Tensor2D,
      mu: tf.reshape(boxes.box.mu, [-1, c]) as tf.Tensor2D,
      r: tf.reshape(boxes.box.r, [-1, c]) as tf.Tensor2D,
    };
    return { padded, flat: tf.reshape(act, [-1, fc]) as tf.Tensor2D, input };
  });

  const rowCost = Math.max(
    fh * fw * fc,
    ...steps.map((s) => (s.kind === 'conv' ? Math.max(s.regH * s.regW * s.inC, s.oH * s.oW * s.spec.filters) : 0)),
    ...model.shapes.slice(flatIdx + 1).map((s) => s.reduce((a, b) => a * b, 1)),
  );

  return {
    rowCost,
    margins(origins: RowOrigins): tf.Tensor3D {
      return tf.tidy(() => {
        const k = origins.perImage;
        const n = batch * k;
        // Input window: the stencil's bounding box at each row's origin.
        let aR = Int32Array.from(origins.rows);
        let aC = Int32Array.from(origins.cols);
        let wH = threat.height;
        let wW = threat.width;
        const inIdx = new Int32Array(n * wH * wW);
        for (let row = 0, q = 0; row < n; row++) {
          const base = Math.floor(row / k) * h * w;
          for (let i = 0; i < wH; i++) for (let j = 0; j < wW; j++) inIdx[q++] = base + (aR[row]! + i) * w + aC[row]! + j;
        }
        const ti = tf.tensor1d(inIdx, 'int32');
        const stencil = tf.tensor4d(Float32Array.from(threat.stencil), [1, wH, wW, 1]);
        const xc = tf.reshape(tf.gather(pre.input.clean, ti), [n, wH, wW, c]);
        let mu: tf.Tensor = tf.add(xc, tf.mul(stencil, tf.sub(tf.reshape(tf.gather(pre.input.mu, ti), [n, wH, wW, c]), xc)));
        let r: tf.Tensor = tf.mul(stencil, tf.reshape(tf.gather(pre.input.r, ti), [n, wH, wW, c]));

        for (const step of steps) {
          if (step.kind === 'relu') {
            ({ mu, r } = intervalRelu({ mu, r }));
            continue;
          }
          const { spec, inH, inW, inC, outH, outW, oH, oW, regH, regW } = step;
          const [kh, kw] = spec.kernelSize;
          const [sh, sw] = spec.strides;
          const [pt, pb, pl, pr] = spec.padding;
          const hp = inH + pt + pb;
          const wp = inW + pl + pr;
          const nClean = batch * hp * wp;
          const idxMu = new Int32Array(n * regH * regW);
          const idxR = new Int32Array(n * regH * regW);
          const oR = new Int32Array(n);
          const oC = new Int32Array(n);
          for (let row = 0, q = 0; row < n; row++) {
            const ar = aR[row]!;
            const ac = aC[row]!;
            const or0 = windowStart(ar, pt, kh, sh, outH, oH);
            const oc0 = windowStart(ac, pl, kw, sw, outW, oW);
            oR[row] = or0;
            oC[row] = oc0;
            const base = Math.floor(row / k) * hp * wp;
            for (let i = 0; i < regH; i++) {
              const prow = or0 * sh + i;
              const ur = prow - pt - ar;
              const inRow = ur >= 0 && ur < wH;
              for (let j = 0; j < regW; j++, q++) {
                const pcol = oc0 * sw + j;
                const uc = pcol - pl - ac;
                if (inRow && uc >= 0 && uc < wW) {
                  const wi = (row * wH + ur) * wW + uc;
                  idxMu[q] = nClean + wi;
                  idxR[q] = 1 + wi;
                } else {
                  idxMu[q] = base + prow * wp + pcol;
                  idxR[q] = 0;
                }
              }
            }
          }
          const srcMu = tf.concat([pre.padded[step.layer]!, tf.reshape(mu, [-1, inC])], 0);
          const srcR = tf.concat([tf.zeros([1, inC]), tf.reshape(r, [-1, inC])], 0);
          const compMu = tf.reshape(tf.gather(srcMu, tf.tensor1d(idxMu, 'int32')), [n, regH, regW, inC]) as tf.Tensor4D;
          const compR = tf.reshape(tf.gather(srcR, tf.tensor1d(idxR, 'int32')), [n, regH, regW, inC]) as tf.Tensor4D;
          const weights = model.weights[step.layer]!;
          const kernel = weights.kernel as tf.Tensor4D;
          mu = tf.add(tf.conv2d(compMu, kernel, [sh, sw], 'valid'), weights.bias);
          r = tf.conv2d(compR, tf.abs(kernel), [sh, sw], 'valid');
          aR = oR;
          aC = oC;
          wH = oH;
          wW = oW;
        }

        // Full map at the flatten: clean activations with each row's window written in.
        const cells = fh * fw;
        const nClean = batch * cells;
        const idxMu = new Int32Array(n * cells);
        const idxR = new Int32Array(n * cells);
        for (let row = 0, q = 0; row < n; row++) {
          const base = Math.floor(row / k) * cells;
          const ar = aR[row]!;
          const ac = aC[row]!;
          for (let i = 0; i < fh; i++) {
            const ur = i - ar;
            const inRow = ur >= 0 && ur < wH;
            for (let j = 0; j < fw; j++, q++) {
              const uc = j - ac;
              if (inRow && uc >= 0 && uc < wW) {
                const wi = (row * wH + ur) * wW + uc;
                idxMu[q] = nClean + wi;
                idxR[q] = 1 + wi;
              } else {
                idxMu[q] = base + i * fw + j;
                idxR[q] = 0;
              }
            }
          }
        }
        const srcMu = tf.concat([pre.flat, tf.reshape(mu, [-1, fc])], 0);
        const srcR = tf.concat([tf.zeros([1, fc]), tf.reshape(r, [-1, fc])], 0);
        const flatMu = tf.reshape(tf.gather(srcMu, tf.tensor1d(idxMu, 'int32')), [n, cells * fc]);
        const flatR = tf.reshape(tf.gather(srcR, tf.tensor1d(idxR, 'int32')), [n, cells * fc]);
        const box = propagateCenterRadius(model, { mu: flatMu, r: flatR }, flatIdx + 1, last);
        return elidedMarginsCenterRadius(model, box, onehot);
      });
    },
    dispose() {
      tf.dispose(pre);
    },
  };
}
