import { tf } from '../../tf.js';
import { PatchcertError } from '../../errors.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, type KernelArgs, type WasmBackend } from './wasm-backend.js';

// Why this kernel exists: stock tfjs-backend-wasm's GatherV2 copies element by element (~40 ns per
// element measured: 28 ms to gather 2,560 rows of 255 floats), while a gather along the first
// axis copies whole contiguous rows, which TypedArray.set does at memcpy speed. bounds gathers
// first-layer weight rows per patch location in random-k training. Other axes, batch dims and
// non-float32 data run the stock kernel.

/**
 * Rows up to this many floats are copied by a plain loop: a subarray plus set costs ~100 ns
 * whatever the length (gathering 22,860 rows of 6 floats: 2.4 ms by set, see the U-Net's head).
 */
const SHORT_ROW = 16;

function gatherV2(args: KernelArgs): tf.TensorInfo {
  const { x, indices } = args.inputs as unknown as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = args.attrs as unknown as tf.GatherV2Attrs;
  const backend = args.backend as WasmBackend;
  const rank = x.shape.length;
  const ax = axis < 0 ? axis + rank : axis;
  if (ax !== 0 || (batchDims ?? 0) !== 0 || x.dtype !== 'float32' || indices.dtype !== 'int32' || rank < 1) return runStock(tf.GatherV2, args);
  const rows = x.shape[0]!;
  const inner = x.shape.slice(1);
  const row = inner.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...indices.shape, ...inner], 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  const ids = backend.typedArrayFromHeap(indices) as Int32Array;
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= rows) {
      backend.disposeData(out.dataId);
      throw new PatchcertError('INVALID_ARGUMENT', `Error in GatherV2 (wasm): indices must be in [0, ${rows - 1}], but got ${s} at ${i}.`);
    }
    if (row > SHORT_ROW) {
      dst.set(src.subarray(s * row, (s + 1) * row), i * row);
    } else {
      for (let k = 0, a = s * row, b = i * row; k < row; k++) dst[b + k] = src[a + k]!;
    }
  }
  return out;
}

/** wasm `GatherV2` along axis 0 as row copies (float32); everything else runs the stock kernel. */
export const gatherV2Config: tf.KernelConfig = {
  kernelName: tf.GatherV2,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native loop the fallback path calls.
  setupFunc: (backend) => stockConfig(tf.GatherV2)?.setupFunc?.(backend),
  kernelFunc: gatherV2 as unknown as tf.KernelFunc,
};
