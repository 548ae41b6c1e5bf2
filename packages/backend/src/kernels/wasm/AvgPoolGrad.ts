import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, disposeIntermediates, explicitPad, runStock, stockConfig, type KernelArgs } from './wasm-backend.js';

// Why this kernel exists: stock tfjs-backend-wasm's AvgPoolGrad is a scalar loop, ~20× slower
// than its (XNNPACK) AvgPool on the same maps. It is the gradient of the window sums bounds'
// dense-first plan takes over every patch location ([B, 28, 28, 255] maps, 2×2 windows), so it
// dominated all-patch MLP training. With stride 1 the gradient is itself a window average: input
// pixel p receives dy of every window covering it, which are the windows of the "full"
// correlation, i.e. AvgPool of dy zero-padded by (filter − 1 − pad) on each side, 'valid'. Same
// sum and the same 1/area as the stock kernel (only the order of the additions may differ).

function avgPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { dy, input } = args.inputs as unknown as tf.AvgPoolGradInputs & { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.AvgPoolGradAttrs & { dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { filterHeight: fh, filterWidth: fw, inHeight, inWidth, outHeight, outWidth, padInfo } = info;
  const top = fh - 1 - padInfo.top;
  const left = fw - 1 - padInfo.left;
  const bottom = inHeight + fh - 1 - outHeight - top;
  const right = inWidth + fw - 1 - outWidth - left;
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || dy.dtype !== 'float32' || Math.min(top, left, bottom, right) < 0) {
    // Strided pooling (windows no longer cover every pixel alike) or padding wider than the
    // window: the stock loop.
    return runStock(tf.AvgPoolGrad, args);
  }
  const padded = runStock(tf.PadV2, {
    inputs: { x: dy },
    backend: args.backend,
    attrs: { paddings: explicitPad(top, bottom, left, right), constantValue: 0 },
  });
  try {
    return runStock(tf.AvgPool, {
      inputs: { x: padded },
      backend: args.backend,
      attrs: { filterSize: [fh, fw], strides: 1, pad: 'valid' },
    });
  } finally {
    disposeIntermediates(args.backend, [padded]);
  }
}

/**
 * wasm `AvgPoolGrad` (the input gradient of avgPool) for stride 1 as a zero-pad and an XNNPACK
 * AvgPool of dy; strided pooling runs the stock kernel. NHWC, float32.
 */
export const avgPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native loop the fallback path calls.
  setupFunc: (backend) => stockConfig(tf.AvgPoolGrad)?.setupFunc?.(backend),
  kernelFunc: avgPoolGrad as unknown as tf.KernelFunc,
};
