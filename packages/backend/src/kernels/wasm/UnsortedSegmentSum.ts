import { tf } from '../../tf.js';
import { PatchcertError } from '../../errors.js';
import { WASM_BACKEND_NAME, type KernelArgs, type WasmBackend, heapOffset } from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

// Why this kernel exists: stock tfjs-backend-wasm 4.22 has no UnsortedSegmentSum, which is the
// gradient of gather, so differentiating through tf.gather throws on wasm. It is a scatter-add:
// patchcert's vector loop where the module runs, a plain loop over the wasm heap otherwise.

function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const { x, segmentIds } = args.inputs as unknown as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const backend = args.backend as WasmBackend;
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new PatchcertError(
      'INVALID_ARGUMENT',
      `Error in UnsortedSegmentSum (wasm): numSegments must be an integer >= 0, but got ${numSegments}.`,
    );
  }
  const idRank = segmentIds.shape.length;
  for (let i = 0; i < idRank; i++) {
    if (segmentIds.shape[i] !== x.shape[i]) {
      throw new PatchcertError(
        'SHAPE_MISMATCH',
        `Error in UnsortedSegmentSum (wasm): segmentIds shape must be a prefix of x shape [${x.shape.join(',')}], but got [${segmentIds.shape.join(',')}].`,
      );
    }
  }
  const inner = x.shape.slice(idRank);
  const row = inner.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([numSegments, ...inner], x.dtype);
  const module = x.dtype === 'float32' && segmentIds.dtype === 'int32' ? patchcertWasm(backend) : undefined;
  if (module !== undefined) {
    // patchcert's loop (assembly/segment-sum.ts): the rows added four floats a vector.
    module.segmentSum(heapOffset(backend, x), heapOffset(backend, segmentIds), heapOffset(backend, out), tf.util.sizeFromShape(segmentIds.shape), row, numSegments);
    return out;
  }
  const outVals = backend.typedArrayFromHeap(out);
  outVals.fill(0);
  const xVals = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    // Like TensorFlow: ids outside [0, numSegments) (negative ones in particular) are dropped.
    if (s < 0 || s >= numSegments) continue;
    const src = i * row;
    const dst = s * row;
    for (let k = 0; k < row; k++) outVals[dst + k] = outVals[dst + k]! + xVals[src + k]!;
  }
  return out;
}

/**
 * wasm `UnsortedSegmentSum` (the gradient of gather), missing from stock tfjs-backend-wasm:
 * `out[s, ...] = Σ_{i: ids[i] = s} x[i, ...]`, ids out of range dropped.
 */
export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: WASM_BACKEND_NAME,
  kernelFunc: unsortedSegmentSum as unknown as tf.KernelFunc,
};
