import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, shareInput, type KernelArgs } from './wasm-backend.js';

// Why this kernel exists: tfjs's gather gradient transposes the output gradient with a
// permutation that is the identity for axis 0 (and back again), and stock tfjs-backend-wasm's
// Transpose copies the data for a no-op permutation: 3 ms of an 84 ms random(10) MLP training
// step at batch 256 ([10240, 255]). A permutation that only moves size-1 axes leaves the data in
// the same order, so the output shares it (one more reference, like Reshape and Identity).

/** True when `perm` keeps every axis longer than 1 in place relative to the others. */
function keepsOrder(shape: readonly number[], perm: readonly number[]): boolean {
  let last = -1;
  for (const axis of perm) {
    if (shape[axis] === 1) continue;
    if (axis < last) return false;
    last = axis;
  }
  return true;
}

function transpose(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  if (x.dtype === 'string' || !keepsOrder(x.shape, perm)) return runStock(tf.Transpose, args);
  return shareInput(args.backend, x, perm.map((a) => x.shape[a]!));
}

/** wasm `Transpose` sharing the input's data when the permutation keeps the element order. */
export const transposeConfig: tf.KernelConfig = {
  kernelName: tf.Transpose,
  backendName: WASM_BACKEND_NAME,
  kernelFunc: transpose as unknown as tf.KernelFunc,
  // The stock setup binds the native function the general path calls.
  setupFunc: (backend) => stockConfig(tf.Transpose)?.setupFunc?.(backend),
};
