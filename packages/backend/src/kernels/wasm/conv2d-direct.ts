// patchcert's direct convolution loop (assembly/conv2d-direct.ts) behind the wasm Conv2D,
// FusedConv2D and Conv2DBackpropInput kernels: the host half, which checks that the loop takes a
// case, lays the filter out in the loop's lane pattern and runs it. Convolutions it does not
// take go to XNNPACK as before.
import { tf } from '../../tf.js';
import { fillOutputs, heapOffset, type WasmBackend } from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

/**
 * Whether float32 convolutions the loop takes run on it (`direct: true`, the default) or on
 * XNNPACK. Measured at batch 256 (see the backend README), the loop is faster for the few output
 * channels it takes; tests and benchmarks flip this to run the other path.
 */
export const directConvPath = { direct: true };

/**
 * Output pixels per block for `channels` output channels (the loop's own rule): the most of 1, 2
 * or 4 with pixels·channels a multiple of 4 and at most 8 vectors (32 floats) in registers; 0
 * when the loop does not take the count (fewer than 4, more than 24, or 9, 11, 13, 15, 17-19, 21,
 * 22 and 23, where no block fits).
 */
export function directConvPixels(channels: number): number {
  if (!Number.isInteger(channels) || channels < 4 || channels > 24) return 0;
  for (const p of [4, 2, 1]) if ((p * channels) % 4 === 0 && p * channels <= 32) return p;
  return 0;
}

/** Where the filter sits on the input: strides, padding before, and the output size. */
export interface DirectConvGeometry {
  strideHeight: number;
  strideWidth: number;
  top: number;
  left: number;
  outHeight: number;
  outWidth: number;
}

/**
 * conv(x, filter) + bias, then ReLU when `relu`, on the direct loop: NHWC float32, dilation 1.
 * Returns undefined, having allocated nothing, when the loop does not take the case (dtype,
 * channel count, no module on this engine, or {@link directConvPath} off).
 *
 * @param filter - `[fh, fw, inC, outC]`.
 * @param bias - `[outC]`, or null.
 */
export function directConv2D(
  backend: WasmBackend,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | null,
  geometry: DirectConvGeometry,
  relu: boolean,
): tf.TensorInfo | undefined {
  const [batch, inH, inW, inC] = x.shape as [number, number, number, number];
  const [fh, fw, fc, outC] = filter.shape as [number, number, number, number];
  const pixels = directConvPixels(outC);
  if (!directConvPath.direct || pixels === 0 || fc !== inC || x.dtype !== 'float32' || filter.dtype !== 'float32' || (bias !== null && bias.dtype !== 'float32')) return undefined;
  const module = patchcertWasm(backend);
  if (module === undefined) return undefined;
  const { strideHeight: sh, strideWidth: sw, top, left, outHeight, outWidth } = geometry;
  // The loop's lane pattern: the bias over the block's pixels·outC floats, and per filter row
  // (tap and input channel) lcm(outC, 4) floats, after which the pattern repeats.
  const blockFloats = pixels * outC;
  const rowFloats = outC % 4 === 0 ? outC : outC % 2 === 0 ? 2 * outC : 4 * outC;
  const out = backend.makeOutput([batch, outHeight, outWidth, outC], 'float32');
  if (out.shape.some((d) => d === 0) || batch * inH * inW === 0) return out;
  fillOutputs(backend, [out], [[fh * fw * inC * rowFloats, 'float32'], [blockFloats, 'float32'], [Math.max(inC, 4), 'float32']], ([wpat, bpat, zero]) => {
    // Views after every allocation (a heap growth detaches older ones).
    const w = backend.typedArrayFromHeap(filter) as Float32Array;
    const pattern = backend.typedArrayFromHeap(wpat!) as Float32Array;
    for (let row = 0, o = 0; row < fh * fw * inC; row++) {
      const base = row * outC;
      for (let l = 0; l < rowFloats; l++) pattern[o++] = w[base + (l % outC)]!;
    }
    const b = bias === null ? undefined : (backend.typedArrayFromHeap(bias) as Float32Array);
    const biasPattern = backend.typedArrayFromHeap(bpat!) as Float32Array;
    for (let l = 0; l < blockFloats; l++) biasPattern[l] = b === undefined ? 0 : b[l % outC]!;
    (backend.typedArrayFromHeap(zero!) as Float32Array).fill(0);
    module.conv2dDirect(
      heapOffset(backend, x), heapOffset(backend, wpat!), heapOffset(backend, bpat!), heapOffset(backend, zero!), heapOffset(backend, out),
      batch, inH, inW, inC, outHeight, outWidth, outC, fh, fw, sh, sw, top, left, relu,
    );
  });
  return out;
}
