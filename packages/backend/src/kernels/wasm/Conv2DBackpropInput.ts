import { tf } from '../../tf.js';
import {
  WASM_BACKEND_NAME,
  assertNHWC,
  disposeIntermediates,
  explicitPad,
  runStock,
  stockConfig,
  type KernelArgs,
} from './wasm-backend.js';

// Why this replaces the stock kernel: stock wasm Conv2DBackpropInput is a scalar loop, the slowest
// part of a conv training step. The input gradient of a convolution is itself a convolution: of dy
// spread out by the stride (zeros between its rows and columns), padded by filter−1−pad, with the
// spatially flipped filter whose in/out channels are swapped. That plain convolution runs on
// XNNPACK through the stock Conv2D kernel and gives the same numbers.

type Conv2DBackpropInputAttrs = tf.Conv2DBackpropInputAttrs;

// Strided gradients with fewer input channels than this stay on the stock loop. Measured at
// batch 256 (ms, patchcert / stock): k4 s2 into 1 ch 20 / 15, into 2 ch 49 / 38, into 3 ch 43 / 50,
// into 8 ch 13 / 56, into 16 ch 63 / 160; stride 1 wins everywhere (k3, 32 ch: 85 / 1052).
const MIN_CHANNELS_STRIDED = 4;

/** dy [n, oh, ow, c] → [n, oh·sh, ow·sw, c] with dy at multiples of the stride, zeros elsewhere. */
function spreadByStride(args: KernelArgs, dy: tf.TensorInfo, sh: number, sw: number, temps: tf.TensorInfo[]): tf.TensorInfo {
  const [n, oh, ow, c] = dy.shape as [number, number, number, number];
  const six = runStock(tf.Reshape, { inputs: { x: dy }, backend: args.backend, attrs: { shape: [n, oh, 1, ow, 1, c] } });
  temps.push(six);
  const padded = runStock(tf.PadV2, {
    inputs: { x: six },
    backend: args.backend,
    attrs: { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 },
  });
  temps.push(padded);
  const spread = runStock(tf.Reshape, { inputs: { x: padded }, backend: args.backend, attrs: { shape: [n, oh * sh, ow * sw, c] } });
  temps.push(spread);
  return spread;
}

/** filter [fh, fw, cin, cout] → [fh, fw, cout, cin], flipped in both spatial axes. */
function flippedTransposedFilter(args: KernelArgs, filter: tf.TensorInfo, temps: tf.TensorInfo[]): tf.TensorInfo {
  const flipped = runStock(tf.Reverse, { inputs: { x: filter }, backend: args.backend, attrs: { dims: [0, 1] } });
  temps.push(flipped);
  const swapped = runStock(tf.Transpose, { inputs: { x: flipped }, backend: args.backend, attrs: { perm: [0, 1, 3, 2] } });
  temps.push(swapped);
  return swapped;
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
  assertNHWC(tf.Conv2DBackpropInput, attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth, outHeight, outWidth } = info;
  // Rows of the spread dy: (oh−1)·sh+1 meaningful, plus sh−1 trailing zeros from the spreading.
  const top = fh - 1 - info.padInfo.top;
  const left = fw - 1 - info.padInfo.left;
  const bottom = inHeight + info.padInfo.top - outHeight * sh;
  const right = inWidth + info.padInfo.left - outWidth * sw;
  if (top < 0 || left < 0 || bottom < -(sh - 1) || right < -(sw - 1) || dy.dtype !== 'float32') {
    // Padding larger than the filter (never used by patchcert): the stock loop handles it.
    return runStock(tf.Conv2DBackpropInput, args);
  }
  if ((sh > 1 || sw > 1) && info.inChannels < MIN_CHANNELS_STRIDED) {
    // Spreading by the stride makes sh·sw times the work, mostly multiplications by zero; with
    // few input channels the convolution is too narrow for XNNPACK to win that back.
    return runStock(tf.Conv2DBackpropInput, args);
  }
  const temps: tf.TensorInfo[] = [];
  try {
    let spread = sh === 1 && sw === 1 ? dy : spreadByStride(args, dy, sh, sw, temps);
    let b = bottom;
    let r = right;
    if (b < 0 || r < 0) {
      // Only trailing zeros of the spreading are cut, so this slice drops no gradient.
      const [n, h, w, c] = spread.shape as [number, number, number, number];
      spread = runStock(tf.Slice, {
        inputs: { x: spread },
        backend: args.backend,
        attrs: { begin: [0, 0, 0, 0], size: [n, h + Math.min(b, 0), w + Math.min(r, 0), c] },
      });
      temps.push(spread);
      b = Math.max(b, 0);
      r = Math.max(r, 0);
    }
    const kernel = flippedTransposedFilter(args, filter, temps);
    return runStock(tf.Conv2D, {
      inputs: { x: spread, filter: kernel },
      backend: args.backend,
      attrs: { strides: 1, pad: explicitPad(top, b, left, r), dataFormat: 'NHWC', dilations: 1 },
    });
  } finally {
    disposeIntermediates(args.backend, temps);
  }
}

/**
 * wasm `Conv2DBackpropInput` (the input gradient of conv2d) as one XNNPACK convolution of the
 * stride-spread, padded dy with the flipped filter (strided gradients into fewer than 4 channels,
 * and paddings wider than the filter, keep the stock loop, which is faster there). NHWC,
 * dilation 1, any stride and padding ('valid', 'same', explicit).
 */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native loop the fallback path calls.
  setupFunc: (backend) => stockConfig(tf.Conv2DBackpropInput)?.setupFunc?.(backend),
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
