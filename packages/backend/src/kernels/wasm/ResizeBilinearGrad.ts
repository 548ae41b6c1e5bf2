import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, type KernelArgs, type WasmBackend, heapOffset } from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

// Why this replaces the stock kernel: the U-Net's decoder upsamples four times, and stock
// tfjs-backend-wasm's ResizeBilinearGrad took ~8 ms of its backward pass at batch 256 (5 for the
// last [256, 14, 14, 6] → [256, 28, 28, 6]). patchcert's loop (assembly/resize-bilinear-grad.ts)
// adds each dy pixel into its four source pixels a channel vector at a time, with the weights
// of tfjs-backend-cpu's gradient. Half-pixel centres, other dtypes and engines without the
// module run the stock kernel.

function resizeBilinearGrad(args: KernelArgs): tf.TensorInfo {
  const { images, dy } = args.inputs as unknown as { images: tf.TensorInfo; dy: tf.TensorInfo };
  const { alignCorners, halfPixelCenters } = args.attrs as unknown as tf.ResizeBilinearGradAttrs & { halfPixelCenters?: boolean };
  const backend = args.backend as WasmBackend;
  const module = !halfPixelCenters && dy.dtype === 'float32' ? patchcertWasm(backend) : undefined;
  if (module === undefined) return runStock(tf.ResizeBilinearGrad, args);
  const [batch, inH, inW, c] = images.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  // Source coordinate = output coordinate × scale; aligned corners map the end pixels onto each
  // other. Per output row (and column): the two source rows (columns, as byte offsets in a row)
  // and the lerp weight, as tfjs-backend-cpu computes them (in double, then float32 products).
  const scale = (input: number, output: number) => (alignCorners && output > 1 ? (input - 1) / (output - 1) : input / output);
  const table = (size: number, input: number, stride: number): tf.TensorInfo => {
    const t = backend.makeOutput([size * 3], 'float32');
    const view = backend.typedArrayFromHeap(t) as Float32Array;
    const ints = new Int32Array(view.buffer, view.byteOffset, view.length);
    const s = scale(input, size);
    for (let i = 0; i < size; i++) {
      const f = i * s;
      const lo = Math.floor(f);
      ints[3 * i] = lo * stride;
      ints[3 * i + 1] = Math.min(Math.ceil(f), input - 1) * stride;
      view[3 * i + 2] = f - lo;
    }
    return t;
  };
  const rows = table(outH, inH, 1);
  const cols = table(outW, inW, 4 * c);
  const out = backend.makeOutput([batch, inH, inW, c], 'float32');
  try {
    module.resizeBilinearGrad(heapOffset(backend, dy), heapOffset(backend, out), heapOffset(backend, rows), heapOffset(backend, cols), batch, inH, inW, c, outH, outW);
  } finally {
    backend.disposeData(rows.dataId);
    backend.disposeData(cols.dataId);
  }
  return out;
}

/** wasm `ResizeBilinearGrad` (the input gradient of resizeBilinear): patchcert's loop, NHWC float32. */
export const resizeBilinearGradConfig: tf.KernelConfig = {
  kernelName: tf.ResizeBilinearGrad,
  backendName: WASM_BACKEND_NAME,
  // The stock setup binds the native loop the fallback path calls.
  setupFunc: (backend) => stockConfig(tf.ResizeBilinearGrad)?.setupFunc?.(backend),
  kernelFunc: resizeBilinearGrad as unknown as tf.KernelFunc,
};
