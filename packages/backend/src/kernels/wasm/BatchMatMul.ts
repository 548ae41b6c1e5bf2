import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, disposeIntermediates, runStock, stockConfig, type KernelArgs } from './wasm-backend.js';

// Why this replaces the stock kernel: stock wasm BatchMatMul with transposeA or transposeB leaves
// XNNPACK's fast path for a strided loop (measured ~45 ms against 3.6 ms for the same
// [256×784]ᵀ·[256×255] product). matMul's gradients use exactly those flags, so IBP training
// spends most of its time there. Transposing the operand explicitly (a memory-bound copy) and
// running the plain product gives the same numbers on the fast path.

function transposeLastTwo(args: KernelArgs, x: tf.TensorInfo): tf.TensorInfo {
  const rank = x.shape.length;
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return runStock(tf.Transpose, { inputs: { x }, backend: args.backend, attrs: { perm } });
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  // Only float32 takes the fast path; let the stock kernel report anything else.
  if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32') {
    return runStock(tf.BatchMatMul, args);
  }
  const temps: tf.TensorInfo[] = [];
  try {
    const a2 = transposeA ? transposeLastTwo(args, a) : a;
    if (transposeA) temps.push(a2);
    const b2 = transposeB ? transposeLastTwo(args, b) : b;
    if (transposeB) temps.push(b2);
    return runStock(tf.BatchMatMul, {
      inputs: { a: a2, b: b2 },
      backend: args.backend,
      attrs: { transposeA: false, transposeB: false },
    });
  } finally {
    disposeIntermediates(args.backend, temps);
  }
}

/**
 * wasm `BatchMatMul` that runs transposed products as an explicit transpose plus the stock plain
 * product (same results, several times faster); plain products go straight to the stock kernel.
 */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native function the plain path calls.
  setupFunc: (backend) => stockConfig(tf.BatchMatMul)?.setupFunc?.(backend),
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
