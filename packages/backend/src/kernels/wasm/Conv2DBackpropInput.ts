import { tf } from '../../tf.js';
import {
  WASM_BACKEND_NAME,
  assertNHWC,
  disposeIntermediates,
  explicitPad,
  runStock,
  stockConfig,
  type KernelArgs,
  type WasmBackend,
} from './wasm-backend.js';
import { runConv2D } from './Conv2D.js';

// Why this replaces the stock kernel: stock wasm Conv2DBackpropInput is a scalar loop, the slowest
// part of a conv training step. The input gradient of a convolution is itself a convolution, run
// here through patchcert's Conv2D kernel (the direct loop for few channels, else XNNPACK). For
// stride s it splits into s_h·s_w phases (polyphase): the rows a ≡ φ (mod s) of dx only see the filter taps p ≡ φ + top (mod s), so each
// phase is a stride-1 convolution of dy with that sub-filter, flipped and with in/out channels
// swapped. The phases are then interleaved into dx. Same numbers as the stock loop, with no
// multiplications by the zeros a stride-spread dy would hold.

/** One axis of the polyphase split: which taps a phase uses and how dy is padded for it. */
interface PhaseAxis {
  /** First filter tap of the phase; taps are first, first+s, … */
  firstTap: number;
  /** Number of taps (ceil((filter − firstTap) / s)). */
  taps: number;
  /** Padding of dy before / after (negative: rows of dy cut). */
  before: number;
  after: number;
}

/**
 * Phase φ of one axis. Output rows a = φ + s·m (m < rows) receive dy[i]·w[p] for i·s + p − pad = a,
 * i.e. p = firstTap + k·s and i = m + q − k with q = (φ + pad − firstTap) / s.
 */
function phaseAxis(phase: number, stride: number, filter: number, pad: number, dyLen: number, rows: number): PhaseAxis {
  const firstTap = (phase + pad) % stride;
  const taps = Math.max(0, Math.ceil((filter - firstTap) / stride));
  const q = (phase + pad - firstTap) / stride;
  const before = taps - 1 - q;
  // Valid correlation length dyLen + before + after − taps + 1 must equal rows.
  const after = rows - dyLen + taps - 1 - before;
  return { firstTap, taps, before, after };
}

/** Sub-filter [th, tw, cout, cin] of one phase: taps (rh + k·sh, rw + l·sw), flipped, channels swapped. */
function subFilter(backend: WasmBackend, filter: tf.TensorInfo, ph: PhaseAxis, pw: PhaseAxis, sh: number, sw: number): tf.TensorInfo {
  const [, fw, cin, cout] = filter.shape as [number, number, number, number];
  const out = backend.makeOutput([ph.taps, pw.taps, cout, cin], 'float32');
  // Views after the allocation: growing the wasm heap detaches older views.
  const dst = backend.typedArrayFromHeap(out);
  const src = backend.typedArrayFromHeap(filter);
  let o = 0;
  for (let i = 0; i < ph.taps; i++) {
    const p = ph.firstTap + (ph.taps - 1 - i) * sh;
    for (let j = 0; j < pw.taps; j++) {
      const q = pw.firstTap + (pw.taps - 1 - j) * sw;
      const base = (p * fw + q) * cin * cout;
      for (let co = 0; co < cout; co++) {
        for (let ci = 0; ci < cin; ci++) dst[o++] = src[base + ci * cout + co]!;
      }
    }
  }
  return out;
}

/** dy cut where a phase's padding is negative; returns dy itself when nothing is cut. */
function cropForPhase(args: KernelArgs, dy: tf.TensorInfo, ph: PhaseAxis, pw: PhaseAxis, temps: tf.TensorInfo[]): tf.TensorInfo {
  if (ph.before >= 0 && ph.after >= 0 && pw.before >= 0 && pw.after >= 0) return dy;
  const [n, h, w, c] = dy.shape as [number, number, number, number];
  const top = Math.max(0, -ph.before);
  const left = Math.max(0, -pw.before);
  const cropped = runStock(tf.Slice, {
    inputs: { x: dy },
    backend: args.backend,
    attrs: {
      begin: [0, top, left, 0],
      size: [n, h - top - Math.max(0, -ph.after), w - left - Math.max(0, -pw.after), c],
    },
  });
  temps.push(cropped);
  return cropped;
}

/**
 * Writes phase (a, b), `part` [n, rows, cols, c], to rows a + sh·m and columns b + sw·l of `out`
 * [n, h, w, c], dropping rows and columns past the input. A plain loop: the wasm Transpose kernel
 * takes ~120 ms for the equivalent 6-D transpose at batch 256, this takes a few.
 */
function interleavePhase(backend: WasmBackend, part: tf.TensorInfo, out: tf.TensorInfo, a: number, b: number, sh: number, sw: number): void {
  const [n, rows, cols, c] = part.shape as [number, number, number, number];
  const [, h, w] = out.shape as [number, number, number, number];
  const src = backend.typedArrayFromHeap(part);
  const dst = backend.typedArrayFromHeap(out);
  const rowsIn = Math.min(rows, Math.ceil((h - a) / sh));
  const colsIn = Math.min(cols, Math.ceil((w - b) / sw));
  for (let i = 0; i < n; i++) {
    for (let m = 0; m < rowsIn; m++) {
      let s = ((i * rows + m) * cols) * c;
      let d = ((i * h + a + m * sh) * w + b) * c;
      for (let l = 0; l < colsIn; l++) {
        for (let k = 0; k < c; k++) dst[d + k] = src[s + k]!;
        s += c;
        d += sw * c;
      }
    }
  }
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { dy, filter } = args.inputs as unknown as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const backend = args.backend as WasmBackend;
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
  const { batchSize: n, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  // Every phase computes the same number of rows; the ones past the input are not copied out.
  const rows = Math.ceil(inHeight / sh);
  const cols = Math.ceil(inWidth / sw);
  const phasesH = Array.from({ length: sh }, (_, f) => phaseAxis(f, sh, fh, info.padInfo.top, outHeight, rows));
  const phasesW = Array.from({ length: sw }, (_, f) => phaseAxis(f, sw, fw, info.padInfo.left, outWidth, cols));
  const usable = (p: PhaseAxis, dyLen: number): boolean => p.taps > 0 && Math.max(0, -p.before) + Math.max(0, -p.after) < dyLen;
  if (!phasesH.every((p) => usable(p, outHeight)) || !phasesW.every((p) => usable(p, outWidth)) || dy.dtype !== 'float32') {
    // A filter smaller than the stride (phases with no taps), padding so wide a phase sees none
    // of dy, or non-float32 data: the stock loop.
    return runStock(tf.Conv2DBackpropInput, args);
  }
  const temps: tf.TensorInfo[] = [];
  const single = sh === 1 && sw === 1;
  const out = single ? undefined : backend.makeOutput([n, inHeight, inWidth, inChannels], 'float32');
  try {
    for (let a = 0; a < sh; a++) {
      for (let b = 0; b < sw; b++) {
        const ph = phasesH[a]!;
        const pw = phasesW[b]!;
        const kernel = subFilter(backend, filter, ph, pw, sh, sw);
        temps.push(kernel);
        const source = cropForPhase(args, dy, ph, pw, temps);
        const part = runConv2D({
          inputs: { x: source, filter: kernel },
          backend,
          attrs: {
            strides: 1,
            pad: explicitPad(Math.max(0, ph.before), Math.max(0, ph.after), Math.max(0, pw.before), Math.max(0, pw.after)),
            dataFormat: 'NHWC',
            dilations: 1,
          },
        });
        if (single) return part;
        temps.push(part);
        interleavePhase(backend, part, out!, a, b, sh, sw);
      }
    }
    return out!;
  } catch (err) {
    if (out !== undefined) backend.disposeData(out.dataId);
    throw err;
  } finally {
    disposeIntermediates(backend, temps);
  }
}

/**
 * wasm `Conv2DBackpropInput` (the input gradient of conv2d) as stride-1 XNNPACK convolutions of dy
 * with the phase sub-filters of the flipped filter, one per stride phase, interleaved. NHWC,
 * dilation 1, any stride and padding ('valid', 'same', explicit).
 */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native loop the fallback path calls.
  setupFunc: (backend) => stockConfig(tf.Conv2DBackpropInput)?.setupFunc?.(backend),
  kernelFunc: conv2DBackpropInput as unknown as tf.KernelFunc,
};
