import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, shareInput, type KernelArgs } from './wasm-backend.js';

// Why this kernel exists: tfjs's Abs gradient casts its float32 input to float32, and stock
// tfjs-backend-wasm's Cast copies the data even when the dtype does not change (0.9 ms of an
// 84 ms random(10) MLP training step at batch 256, [2560, 4, 255]). A cast to the same dtype
// shares the data instead (one more reference, like Identity).

function cast(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (x.dtype === 'string' || x.dtype !== dtype) return runStock(tf.Cast, args);
  return shareInput(args.backend, x);
}

/** wasm `Cast` sharing the input's data when the dtype does not change. */
export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: WASM_BACKEND_NAME,
  kernelFunc: cast as unknown as tf.KernelFunc,
  setupFunc: (backend) => stockConfig(tf.Cast)?.setupFunc?.(backend),
};
