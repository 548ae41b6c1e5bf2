import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, type KernelArgs, type WasmBackend, heapOffset } from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

// Why this replaces the stock kernel: stock tfjs-backend-wasm's MaxPoolGrad takes ~8 ms for the
// U-Net's one 3×3/2 pool at batch 256 ([256, 14, 14, 6] → [256, 7, 7, 6]), as long as a 28×28
// convolution's kernel gradient. patchcert's loop (assembly/max-pool-grad.ts) sends each dy to
// its window's first maximum directly, which is how tfjs-backend-cpu defines the gradient.
// Dilated pools, other dtypes and engines without the module run the stock kernel.

function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, input } = args.inputs as unknown as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const backend = args.backend as WasmBackend;
  const module = dy.dtype === 'float32' && input.dtype === 'float32' ? patchcertWasm(backend) : undefined;
  if (module === undefined) return runStock(tf.MaxPoolGrad, args);
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const out = backend.makeOutput(input.shape, 'float32');
  module.maxPoolGrad(
    heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  );
  return out;
}

/** wasm `MaxPoolGrad` (the input gradient of maxPool): patchcert's loop, NHWC float32. */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native loop the fallback path calls.
  setupFunc: (backend) => stockConfig(tf.MaxPoolGrad)?.setupFunc?.(backend),
  kernelFunc: maxPoolGrad as unknown as tf.KernelFunc,
};
