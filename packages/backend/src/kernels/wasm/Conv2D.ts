import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, assertNHWC, runStock, stockConfig, type KernelArgs, type WasmBackend } from './wasm-backend.js';
import { directConv2D } from './conv2d-direct.js';

// Why these replace the stock kernels: for the few output channels of small networks (the
// U-Net's 6, 12 and 24, CIFAR's 10 and 20) XNNPACK leaves SIMD lanes idle; patchcert's direct
// loop (conv2d-direct.ts) computes the same convolution 1.1-1.6× faster there (backend README).
// Every other case, including dilations, PReLU and leaky ReLU, runs the stock kernel.

/** The direct loop's result for a Conv2D or FusedConv2D call it takes, else undefined. */
function tryDirect(args: KernelArgs, bias: tf.TensorInfo | null, relu: boolean): tf.TensorInfo | undefined {
  const { x, filter } = args.inputs as unknown as { x: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DAttrs;
  assertNHWC(tf.Conv2D, attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return undefined;
  if (bias !== null && (bias.shape.length !== 1 || bias.shape[0] !== info.outChannels)) return undefined;
  return directConv2D(
    args.backend as WasmBackend,
    x,
    filter,
    bias,
    { strideHeight: info.strideHeight, strideWidth: info.strideWidth, top: info.padInfo.top, left: info.padInfo.left, outHeight: info.outHeight, outWidth: info.outWidth },
    relu,
  );
}

/** Conv2D on the direct loop where it takes the case, else on the stock kernel (XNNPACK). */
export function runConv2D(args: KernelArgs): tf.TensorInfo {
  return tryDirect(args, null, false) ?? runStock(tf.Conv2D, args);
}

function fusedConv2D(args: KernelArgs): tf.TensorInfo {
  const { bias, preluActivationWeights } = args.inputs as unknown as { bias?: tf.TensorInfo | null; preluActivationWeights?: tf.TensorInfo | null };
  const activation = (args.attrs as unknown as tf.FusedConv2DAttrs).activation ?? 'linear';
  const direct = preluActivationWeights == null && (activation === 'linear' || activation === 'relu') ? tryDirect(args, bias ?? null, activation === 'relu') : undefined;
  return direct ?? runStock(tf.FusedConv2D, args);
}

/** wasm `Conv2D`: the direct loop for few output channels, else XNNPACK (stock). */
export const conv2DConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native function the fallback path calls.
  setupFunc: (backend) => stockConfig(tf.Conv2D)?.setupFunc?.(backend),
  kernelFunc: runConv2D as unknown as tf.KernelFunc,
};

/** wasm `FusedConv2D` (bias, linear or ReLU): the direct loop for few output channels, else XNNPACK (stock). */
export const fusedConv2DConfig: tf.KernelConfig = {
  kernelName: tf.FusedConv2D,
  backendName: WASM_BACKEND_NAME,
  setupFunc: (backend) => stockConfig(tf.FusedConv2D)?.setupFunc?.(backend),
  kernelFunc: fusedConv2D as unknown as tf.KernelFunc,
};
