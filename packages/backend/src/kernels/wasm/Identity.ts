import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, shareInput, type KernelArgs } from './wasm-backend.js';

// Why this kernel exists: tfjs clones every tensor it saves for a gradient (engine.clone runs
// Identity), and stock tfjs-backend-wasm's Identity copies the data, where tfjs-backend-cpu's
// shares it. Tensor data is never written in place after a kernel returns (variables swap data
// ids on assign), so sharing is safe; it was ~10 % of an all-patch MLP training step.

function identity(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  if (x.dtype === 'string') return runStock(tf.Identity, args);
  return shareInput(args.backend, x);
}

/** wasm `Identity` sharing the input's data (one more reference) instead of copying it. */
export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: WASM_BACKEND_NAME,
  kernelFunc: identity as unknown as tf.KernelFunc,
};
