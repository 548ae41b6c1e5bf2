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

/**
 * A product over an inner dimension of 1 (the gradient of a matrix-vector product, which IBP's
 * elided last layer makes) is an outer product: one broadcasting Multiply, exact, where the
 * batched matmul kernel spends its time on per-batch overhead (measured min 3.3 → 0.3 ms at
 * [256,10,1]·[256,255,1]ᵀ). With inner 1, a transposed operand is the same memory reshaped.
 */
function outerProduct(args: KernelArgs, a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): tf.TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  const column = runStock(tf.Reshape, { inputs: { x: a }, backend: args.backend, attrs: { shape: [...a.shape.slice(0, -2), m, 1] } });
  const row = runStock(tf.Reshape, { inputs: { x: b }, backend: args.backend, attrs: { shape: [...b.shape.slice(0, -2), 1, n] } });
  try {
    return runStock(tf.Multiply, { inputs: { a: column, b: row }, backend: args.backend });
  } finally {
    disposeIntermediates(args.backend, [column, row]);
  }
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  // Only float32 takes the fast paths; let the stock kernel report anything else.
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return runStock(tf.BatchMatMul, args);
  const innerA = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const innerB = transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  if (innerA === 1 && innerB === 1) return outerProduct(args, a, b, transposeA, transposeB);
  if (!transposeA && !transposeB) return runStock(tf.BatchMatMul, args);
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
 * product (same results, several times faster) and products over an inner dimension of 1 as one
 * broadcasting Multiply; other plain products go straight to the stock kernel.
 */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native function the plain path calls.
  setupFunc: (backend) => stockConfig(tf.BatchMatMul)?.setupFunc?.(backend),
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
