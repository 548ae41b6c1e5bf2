import { tf } from '../../tf.js';
import {
  WASM_BACKEND_NAME,
  assertNHWC,
  disposeIntermediates,
  explicitPad,
  runStock,
  type KernelArgs,
  type WasmBackend,
  heapOffset,
} from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

// Why this kernel exists: stock tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter, so any
// gradient with respect to a conv kernel throws on wasm. The weight gradient
//   dW[p,q,c,o] = Σ_{n,i,j} x[n, i·sh+p−top, j·sw+q−left, c] · dy[n,i,j,o]
// is a convolution in which the input channels c play the batch, the batch n plays the input
// channels, and dy is the filter, dilated by the forward stride. It runs as one stock (XNNPACK)
// Conv2D between two transposes. That convolution is a long thin product (K = batch·outH·outW
// for 3·3·6·6 outputs of a 3×3 6→6 kernel) that XNNPACK runs slowly, so patchcert's own direct
// SIMD loop (assembly/conv2d-backprop-filter.ts, image by image in cache) runs it where the
// module can; the transposed convolution remains for other dtypes and engines.

function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { x, dy } = args.inputs as unknown as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  assertNHWC(tf.Conv2DBackpropFilter, attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw, inHeight, inWidth, outHeight, outWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const module = filterGradPath.direct && x.dtype === 'float32' && dy.dtype === 'float32' ? patchcertWasm(args.backend as WasmBackend) : undefined;
  if (module !== undefined) {
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput([fh, fw, info.inChannels, info.outChannels], 'float32');
    module.conv2dBackpropFilter(
      heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out),
      info.batchSize, inHeight, inWidth, info.inChannels, outHeight, outWidth, info.outChannels,
      fh, fw, sh, sw, top, left,
    );
    return out;
  }
  // Padding after the input so the dilated dy fits exactly fh × fw times; negative means the
  // forward pass never read the last rows/columns, which are then cut.
  const bottom = fh + (outHeight - 1) * sh - inHeight - top;
  const right = fw + (outWidth - 1) * sw - inWidth - left;
  const temps: tf.TensorInfo[] = [];
  try {
    // x [n, h, w, cin] → [cin, h, w, n]
    let xt = runStock(tf.Transpose, { inputs: { x }, backend: args.backend, attrs: { perm: [3, 1, 2, 0] } });
    temps.push(xt);
    if (bottom < 0 || right < 0) {
      const [c, h, w, n] = xt.shape as [number, number, number, number];
      xt = runStock(tf.Slice, {
        inputs: { x: xt },
        backend: args.backend,
        attrs: { begin: [0, 0, 0, 0], size: [c, h + Math.min(bottom, 0), w + Math.min(right, 0), n] },
      });
      temps.push(xt);
    }
    // dy [n, oh, ow, cout] → [oh, ow, n, cout]: a filter whose input channels are the batch.
    const dyt = runStock(tf.Transpose, { inputs: { x: dy }, backend: args.backend, attrs: { perm: [1, 2, 0, 3] } });
    temps.push(dyt);
    const dw = runStock(tf.Conv2D, {
      inputs: { x: xt, filter: dyt },
      backend: args.backend,
      attrs: {
        strides: 1,
        pad: explicitPad(top, Math.max(bottom, 0), left, Math.max(right, 0)),
        dataFormat: 'NHWC',
        dilations: [sh, sw],
      },
    });
    temps.push(dw);
    // [cin, fh, fw, cout] → [fh, fw, cin, cout]
    return runStock(tf.Transpose, { inputs: { x: dw }, backend: args.backend, attrs: { perm: [1, 2, 0, 3] } });
  } finally {
    disposeIntermediates(args.backend, temps);
  }
}

/**
 * Which path the kernel takes for float32 on a backend that runs patchcert's module: the direct
 * loop (`direct: true`, the default) or the transposed XNNPACK convolution, the path left for
 * other dtypes and engines without the module. Measured at batch 256 on shapes from 28×28 1→6
 * to 14×14 128→128 (and 8×8 256→256 at batch 16), the direct loop was faster on every one
 * (1.1-7×), so there is no channel-count crossover; tests and benchmarks flip it to run the
 * other path.
 */
export const filterGradPath = { direct: true };

/**
 * wasm `Conv2DBackpropFilter` (the kernel gradient of conv2d), missing from stock
 * tfjs-backend-wasm: patchcert's direct SIMD loop, else one dilated XNNPACK convolution between
 * transposes. NHWC, dilation 1, any stride and padding ('valid', 'same', explicit).
 */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: WASM_BACKEND_NAME,
  kernelFunc: conv2DBackpropFilter as unknown as tf.KernelFunc,
};
