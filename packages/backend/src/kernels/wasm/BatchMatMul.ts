import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, disposeIntermediates, fillOutputs, runStock, stockConfig, type KernelArgs, type WasmBackend, heapOffset } from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

// Why this replaces the stock kernel: stock wasm BatchMatMul with transposeA or transposeB leaves
// XNNPACK's fast path for a strided loop (measured ~45 ms against 3.6 ms for the same
// [256×784]ᵀ·[256×255] product). matMul's gradients use exactly those flags, so IBP training
// spends most of its time there. Transposing the operand explicitly (a memory-bound copy) and
// running the plain product gives the same numbers on the fast path. Batched products never
// reach XNNPACK in stock wasm; the shapes IBP makes of them (outer products and matrix-vector
// products for the elided last layer) get their own exact paths below.

function batchSize(x: tf.TensorInfo): number {
  return x.shape.slice(0, -2).reduce((p, d) => p * d, 1);
}

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
  const module = sameBatch(a, b) ? patchcertWasm(args.backend as WasmBackend) : undefined;
  if (module !== undefined) {
    // The stock Multiply broadcasts [.., m, 1]·[.., 1, n] through its generic indexed loop.
    const backend = args.backend as WasmBackend;
    const out = backend.makeOutput([...a.shape.slice(0, -2), m, n], 'float32');
    module.batchedOuter(heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out), batchSize(a), m, n);
    return out;
  }
  const column = runStock(tf.Reshape, { inputs: { x: a }, backend: args.backend, attrs: { shape: [...a.shape.slice(0, -2), m, 1] } });
  const row = runStock(tf.Reshape, { inputs: { x: b }, backend: args.backend, attrs: { shape: [...b.shape.slice(0, -2), 1, n] } });
  try {
    return runStock(tf.Multiply, { inputs: { a: column, b: row }, backend: args.backend });
  } finally {
    disposeIntermediates(args.backend, [column, row]);
  }
}

/**
 * Aᵀ·v (one output column) and u·Bᵀ (one output row) without transposing the big operand: the
 * result is a vector, so it equals the transpose of the plain product vᵀ·A (resp. B·uᵀ), and
 * transposing a vector is a reshape. This is the gradient of IBP's batched matrix-vector margins,
 * where the transpose of [256,10,784] alone costs more than the product. Undefined when neither
 * shape applies.
 */
function transposedMatVec(
  args: KernelArgs,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
): tf.TensorInfo | undefined {
  const ra = a.shape.length;
  const rb = b.shape.length;
  let vector: tf.TensorInfo;
  let lhs: tf.TensorInfo;
  let rhs: tf.TensorInfo;
  let outShape: number[];
  if (transposeA && !transposeB && b.shape[rb - 1] === 1) {
    // a [.., K, M], b [.., K, 1]: (aᵀ·b)ᵀ = bᵀ·a with bᵀ = b as [.., 1, K].
    vector = runStock(tf.Reshape, { inputs: { x: b }, backend: args.backend, attrs: { shape: [...b.shape.slice(0, -2), 1, b.shape[rb - 2]!] } });
    [lhs, rhs] = [vector, a];
    outShape = [a.shape[ra - 1]!, 1];
  } else if (transposeB && !transposeA && a.shape[ra - 2] === 1) {
    // a [.., 1, K], b [.., N, K]: (a·bᵀ)ᵀ = b·aᵀ with aᵀ = a as [.., K, 1].
    vector = runStock(tf.Reshape, { inputs: { x: a }, backend: args.backend, attrs: { shape: [...a.shape.slice(0, -2), a.shape[ra - 1]!, 1] } });
    [lhs, rhs] = [b, vector];
    outShape = [1, b.shape[rb - 2]!];
  } else {
    return undefined;
  }
  const temps = [vector];
  try {
    const product = runStock(tf.BatchMatMul, { inputs: { a: lhs, b: rhs }, backend: args.backend, attrs: { transposeA: false, transposeB: false } });
    temps.push(product);
    return runStock(tf.Reshape, { inputs: { x: product }, backend: args.backend, attrs: { shape: [...product.shape.slice(0, -2), ...outShape] } });
  } finally {
    disposeIntermediates(args.backend, temps);
  }
}

/** Both operands have the same batch dimensions (no batch broadcasting). */
function sameBatch(a: tf.TensorInfo, b: tf.TensorInfo): boolean {
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  return ba.length === bb.length && ba.every((d, i) => d === bb[i]);
}

/** Inner dimensions up to which a row times a matrix runs patchcert's loop. */
const ROW_TIMES_MATRIX_MAX_K = 64;

/**
 * [.., 1, K]·[.., K, N] with a small K, batched (bounds' first dense layer at a patch's K
 * pixels, one product per location): patchcert's loop (assembly/small-batch-matmul.ts), where
 * the stock kernel spends its time on per-entry overhead (6 ms for [2560,1,4]·[2560,4,255]).
 * Undefined for other shapes.
 */
function rowTimesMatrix(args: KernelArgs, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | undefined {
  const ra = a.shape.length;
  const k = a.shape[ra - 1]!;
  if (ra < 3 || a.shape[ra - 2] !== 1 || k > ROW_TIMES_MATRIX_MAX_K || b.shape[b.shape.length - 2] !== k || !sameBatch(a, b)) return undefined;
  const backend = args.backend as WasmBackend;
  const module = patchcertWasm(backend);
  if (module === undefined) return undefined;
  const n = b.shape[b.shape.length - 1]!;
  const out = backend.makeOutput([...a.shape.slice(0, -1), n], 'float32');
  module.rowTimesMatrix(heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out), batchSize(a), k, n);
  return out;
}

/**
 * Whether unbatched Aᵀ·B runs patchcert's loop (`direct: true`, the default) or an explicit
 * transpose and XNNPACK; tests and benchmarks flip it to compare.
 */
export const transposeAPath = { direct: true };

/**
 * Aᵀ·B, unbatched (a dense layer's weight gradient xᵀ·dy): patchcert's tiled loop
 * (assembly/small-batch-matmul.ts), with no transposed copy of A and no packing of a fresh B,
 * which XNNPACK does on every call. Undefined without the module or for other shapes.
 */
function matMulTransposeA(args: KernelArgs, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo | undefined {
  if (batchSize(a) !== 1 || batchSize(b) !== 1) return undefined;
  const backend = args.backend as WasmBackend;
  const module = patchcertWasm(backend);
  if (module === undefined) return undefined;
  const ra = a.shape.length;
  const [m, k] = a.shape.slice(ra - 2) as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  if (b.shape[b.shape.length - 2] !== m || m * k * n === 0) return undefined;
  const out = backend.makeOutput([...a.shape.slice(0, -2), k, n], 'float32');
  const kPad = Math.ceil(k / 8) * 8;
  fillOutputs(backend, [out], [[n * kPad, 'float32']], ([outT]) => {
    (backend.typedArrayFromHeap(outT!) as Float32Array).fill(0);
    module.matMulTransposeA(heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, outT!), heapOffset(backend, out), m, k, n);
  });
  return out;
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  // Only float32 takes the fast paths; let the stock kernel report anything else.
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return runStock(tf.BatchMatMul, args);
  const innerA = transposeA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  const innerB = transposeB ? b.shape[b.shape.length - 1] : b.shape[b.shape.length - 2];
  if (innerA === 1 && innerB === 1) return outerProduct(args, a, b, transposeA, transposeB);
  if (!transposeA && !transposeB) return rowTimesMatrix(args, a, b) ?? runStock(tf.BatchMatMul, args);
  const vectorResult = transposedMatVec(args, a, b, transposeA, transposeB);
  if (vectorResult !== undefined) return vectorResult;
  if (transposeA && !transposeB && transposeAPath.direct) {
    const direct = matMulTransposeA(args, a, b);
    if (direct !== undefined) return direct;
  }
  // Only an unbatched plain product reaches XNNPACK; batched ones take the same loop either way
  // (measured at [256,10,784]ᵀ·[256,10,5]: 61 ms with an explicit transpose, 46 ms stock).
  if (batchSize(a) > 1 || batchSize(b) > 1) return runStock(tf.BatchMatMul, args);
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
 * wasm `BatchMatMul`: unbatched Aᵀ·B by patchcert's tiled loop, other unbatched transposed
 * products as an explicit transpose plus the stock plain product (same results, 10–20× faster),
 * products over an inner dimension of 1 as outer
 * products (patchcert's loop, else one broadcasting Multiply), batched rows times small
 * matrices by patchcert's loop, transposed matrix-vector products as the plain product of the
 * vector; everything else goes straight to the stock kernel.
 */
export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: tf.BatchMatMul,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native function the plain path calls.
  setupFunc: (backend) => stockConfig(tf.BatchMatMul)?.setupFunc?.(backend),
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
