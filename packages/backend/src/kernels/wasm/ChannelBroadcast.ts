import { tf } from '../../tf.js';
import { WASM_BACKEND_NAME, runStock, stockConfig, type KernelArgs, type WasmBackend, heapOffset } from './wasm-backend.js';
import { patchcertWasm } from './patchcert-module.js';

// Why these replace the stock kernels: stock tfjs-backend-wasm runs a binary op whose operand
// broadcasts along the leading axes through a generic indexed loop, ~10× slower than the same
// op on equal shapes (0.85 against 0.08 ms for [256, 14, 14, 6] · [6]). Per-channel operands
// are what BatchNorm (the U-Net's, forward and backward) and bias adds are made of. patchcert's
// loop (assembly/channel-broadcast.ts) walks the data as flat vectors against the channel row
// tiled to lcm(C, 4) floats. Every other shape pair, and non-float32 data, runs the stock kernel.

/** Operation codes of assembly/channel-broadcast.ts. */
const OPS = { [tf.Add]: 0, [tf.Sub]: 1, [tf.Multiply]: 2, [tf.RealDiv]: 3 } as const;
type BinaryName = keyof typeof OPS;

/** True when `small` is one row of `big`'s last axis: [C], [1, C], [1, 1, 1, C] against [..., C]. */
function isChannelOperand(small: readonly number[], big: readonly number[]): boolean {
  const c = big[big.length - 1];
  return big.length >= 2 && small.length >= 1 && small.length <= big.length && small[small.length - 1] === c && small.slice(0, -1).every((d) => d === 1);
}

function channelBroadcast(name: BinaryName) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as unknown as { a: tf.TensorInfo; b: tf.TensorInfo };
    const backend = args.backend as WasmBackend;
    const right = isChannelOperand(b.shape, a.shape) && tf.util.sizeFromShape(a.shape) > b.shape[b.shape.length - 1]!;
    const left = !right && isChannelOperand(a.shape, b.shape) && tf.util.sizeFromShape(b.shape) > a.shape[a.shape.length - 1]!;
    const module = (left || right) && a.dtype === 'float32' && b.dtype === 'float32' ? patchcertWasm(backend) : undefined;
    if (module === undefined) return runStock(name, args);
    const [big, small] = right ? [a, b] : [b, a];
    const cols = small.shape[small.shape.length - 1]!;
    // The channel row tiled to lcm(C, 4) floats, so the loop reads it a whole vector at a time.
    const period = cols % 4 === 0 ? cols : cols % 2 === 0 ? 2 * cols : 4 * cols;
    const pattern = backend.makeOutput([period], 'float32');
    const out = backend.makeOutput(big.shape, 'float32');
    try {
      const channels = backend.typedArrayFromHeap(small);
      const tiled = backend.typedArrayFromHeap(pattern);
      for (let i = 0; i < period; i++) tiled[i] = channels[i % cols]!;
      module.channelBroadcast(OPS[name], heapOffset(backend, big), heapOffset(backend, pattern), heapOffset(backend, out), tf.util.sizeFromShape(big.shape), period, left);
    } finally {
      backend.disposeData(pattern.dataId);
    }
    return out;
  };
}

function config(name: BinaryName): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: WASM_BACKEND_NAME,
    // The stock setup binds the native loop every other shape runs.
    setupFunc: (backend) => stockConfig(name)?.setupFunc?.(backend),
    kernelFunc: channelBroadcast(name) as unknown as tf.KernelFunc,
  };
}

/** wasm `Add`, `Sub`, `Multiply`, `RealDiv`: patchcert's loop for a per-channel float32 operand, else stock. */
export const addConfig = config(tf.Add);
export const subConfig = config(tf.Sub);
export const multiplyConfig = config(tf.Multiply);
export const realDivConfig = config(tf.RealDiv);
