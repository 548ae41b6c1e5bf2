import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, type KernelArgs, type WasmBackend } from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

// Why this kernel exists: per-channel sums of NHWC tensors (bias gradients, BatchNorm statistics
// and gradients: Σ over batch and space) reduce the leading axes, which stock tfjs-backend-wasm
// does by transposing the channels first and then summing the innermost axis, and a [1, N]·[N, C]
// matMul by ones is not much faster (4 ms for [256, 28, 28, 6]). patchcert's loop
// (assembly/sum-leading.ts) sums the rows in place; other reductions run the stock kernel.

/** Columns up to which the loop runs (it makes one pass over the rows per 8 columns). */
const MAX_COLS = 32;

function sum(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape);
  // Leading axes 0 … k−1 exactly, at least one kept axis.
  const leading = axes.length < rank && axes.length > 0 && [...axes].sort((a, b) => a - b).every((a, i) => a === i);
  const cols = leading ? x.shape.slice(axes.length).reduce((a, b) => a * b, 1) : 0;
  const module = leading && x.dtype === 'float32' && cols <= MAX_COLS ? patchcertWasm(args.backend as WasmBackend) : undefined;
  if (module === undefined) return runStock(tf.Sum, args);
  const backend = args.backend as WasmBackend;
  const kept = x.shape.slice(axes.length);
  const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
  const rows = cols === 0 ? 0 : tf.util.sizeFromShape(x.shape) / cols;
  module.sumLeading(backend.typedArrayFromHeap(x).byteOffset, backend.typedArrayFromHeap(out).byteOffset, rows, cols);
  return out;
}

/** wasm `Sum`: patchcert's loop for float32 reductions over leading axes into ≤ 32 values. */
export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: WASM_BACKEND_NAME,
  kernelFunc: sum as unknown as tf.KernelFunc,
  setupFunc: (backend) => stockConfig(tf.Sum)?.setupFunc?.(backend),
};
