import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, type KernelArgs, type WasmBackend } from './wasm-backend.js';

// Why this kernel exists: stock tfjs-backend-wasm's Slice copies element by element in JavaScript
// unless the slice is one contiguous run (~30 ms for [64, 367, 255] out of [64, 676, 255], which
// bounds' dense-first plan takes once per pass for the center and the radius). Every slice is a
// set of contiguous blocks (the innermost sliced axis times the full axes after it), and
// TypedArray.set copies each block at memcpy speed.

function slice(args: KernelArgs): tf.TensorInfo {
  const { x } = args.inputs as unknown as { x: tf.TensorInfo };
  const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
  if (x.dtype === 'string') return runStock(tf.Slice, args);
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  const backend = args.backend as WasmBackend;
  const out = backend.makeOutput(s, x.dtype);
  const count = s.reduce((p, q) => p * q, 1);
  if (count === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    dst.set(src.subarray(0, 1));
    return out;
  }
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1]! * x.shape[i + 1]!;
  // Axes after `a` are taken whole, so each block is contiguous in x and in the output.
  let a = rank - 1;
  while (a > 0 && s[a] === x.shape[a]) a--;
  const block = s[a]! * strides[a]!;
  const outer = count / block;
  const idx = new Array<number>(a).fill(0);
  for (let o = 0; o < outer; o++) {
    let from = b[a]! * strides[a]!;
    for (let i = 0; i < a; i++) from += (b[i]! + idx[i]!) * strides[i]!;
    dst.set(src.subarray(from, from + block), o * block);
    for (let i = a - 1; i >= 0; i--) {
      if (++idx[i]! < s[i]!) break;
      idx[i] = 0;
    }
  }
  return out;
}

/** wasm `Slice` as contiguous block copies (any rank, numeric dtypes; strings run the stock kernel). */
export const sliceConfig: tf.KernelConfig = {
  kernelName: tf.Slice,
  backendName: WASM_BACKEND_NAME,
  setupFunc: (backend) => stockConfig(tf.Slice)?.setupFunc?.(backend),
  kernelFunc: slice as unknown as tf.KernelFunc,
};
