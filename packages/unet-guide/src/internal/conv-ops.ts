// The U-Net's convolution as one op with its own gradient. It avoids slow spots of tf.conv2d
// plus tf.add on wasm (CPU ms at batch 256, 28×28, 6 channels, measured under load): the
// separate bias Add (~7 per conv; XNNPACK adds the bias inside the conv) and the bias gradient's
// Sum over batch and space (a transpose plus a slow reduction; here patchcert's leading-axis Sum),
// and runs 1×1 convolutions forward and for the input gradient as matMuls with the small kernel
// as the packed operand. Kernel gradients, 1×1 ones included, go to patchcert's direct
// Conv2DBackpropFilter loop: X^T·dY as a matMul makes XNNPACK repack the fresh 200,704 × 10 dY
// on every call (10 ms against 1.9 for conv_last).
import { tf } from '@patchcert/backend';
import { channelSum } from './channel-stats.js';

/**
 * conv2d(x, kernel, stride, pad) + bias, NHWC with a symmetric numeric pad, differentiable
 * with respect to all three inputs.
 *
 * @param bias - `[cout]`, or null for none.
 * @param inputGrad - false where x is data (the images): its gradient, a full transposed
 *   convolution, is then never computed, and x is not differentiable through this op.
 * @param relu - apply ReLU to the result inside the same kernel (XNNPACK clamps the output).
 */
export function conv2dBias(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | null, stride: number, pad: number, inputGrad = true, relu = false): tf.Tensor4D {
  const [kh, kw, cin, cout] = kernel.shape;
  const pointwise = kh === 1 && kw === 1 && stride === 1 && pad === 0;
  const activation = relu ? 'relu' : 'linear';
  // The fused kernels are called directly: tf.fused.* falls back to separate ops for 'relu'
  // whenever a gradient tape is recording.
  const forward = (xv: tf.Tensor4D, kv: tf.Tensor4D, bv: tf.Tensor1D | undefined): tf.Tensor4D => {
    const bias = bv ?? null;
    if (pointwise) {
      const [n, h, w] = xv.shape;
      const a = tf.reshape(xv, [1, n * h * w, cin]);
      const b = tf.reshape(kv, [1, cin, cout]);
      const y = tf.engine().runKernel(tf._FusedMatMul, { a, b, bias, preluActivationWeights: null } as unknown as tf.NamedTensorMap, { transposeA: false, transposeB: false, activation });
      return tf.reshape(y as tf.Tensor, [n, h, w, cout]);
    }
    return tf.engine().runKernel(
      tf.FusedConv2D,
      { x: xv, filter: kv, bias, preluActivationWeights: null } as unknown as tf.NamedTensorMap,
      { strides: [stride, stride], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined, activation } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor4D;
  };
  const inputGradient = (dy: tf.Tensor4D, kv: tf.Tensor4D): tf.Tensor4D => {
    if (!pointwise) return tf.conv2dTranspose(dy, kv, x.shape, stride, pad);
    const dx = tf.matMul(tf.reshape(dy, [dy.size / cout, cout]) as tf.Tensor2D, tf.reshape(kv, [cin, cout]) as tf.Tensor2D, false, true);
    return tf.reshape(dx, x.shape);
  };
  const kernelGradient = (dy: tf.Tensor4D, xv: tf.Tensor4D): tf.Tensor4D =>
    tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xv, dy }, { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape: kernel.shape }) as tf.Tensor4D;
  // One op over [x?, kernel, bias?]; customGrad passes its save function last.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const inputs = args as tf.Tensor[];
    const xv = (inputGrad ? inputs[0] : x) as tf.Tensor4D;
    const kv = inputs[inputGrad ? 1 : 0] as tf.Tensor4D;
    const bv = inputs[inputGrad ? 2 : 1] as tf.Tensor1D | undefined;
    const value = forward(xv, kv, bv);
    save(relu ? [xv, kv, value] : [xv, kv]);
    return {
      value,
      gradFunc: (dyOut: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk, sy] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D | undefined];
        // ReLU's gradient: dy where the output is positive (as tf.relu's: 0 at 0).
        const dy = sy ? tf.mul(dyOut, tf.step(sy)) : dyOut;
        const grads: tf.Tensor[] = [];
        if (inputGrad) grads.push(inputGradient(dy as tf.Tensor4D, sk));
        grads.push(kernelGradient(dy as tf.Tensor4D, sx));
        if (bv) grads.push(channelSum(dy));
        return grads;
      },
    };
  });
  const inputs = [...(inputGrad ? [x] : []), kernel, ...(bias ? [bias] : [])];
  return op(...inputs) as tf.Tensor4D;
}

/**
 * The kh×kw windows of `x` (zero padding `pad`, stride 1) around the given output pixels, as
 * the rows of `[pixels.length, kh·kw·C]` (taps row-major, channels last: the layout of a conv
 * kernel `[kh, kw, C, cout]` reshaped to `[kh·kw·C, cout]`). Differentiable with respect to x
 * (the gradient scatter-adds the rows back). A convolution at a few pixels is then one matMul.
 * Taps in the padding read the pixel itself and are zeroed by a mask: padding x would copy the
 * whole tensor (stock PadV2 on wasm: ~4 ms for [256, 28, 28, 6]) to read a few rows of it.
 *
 * @param pixels - flat output pixels n·H·W + r·W + c (the output is the input's size: pad must
 *   be (k − 1) / 2 for the windows to be centred as in a 'same' convolution).
 */
export function windowsAt(x: tf.Tensor4D, pixels: Int32Array, kh: number, kw: number, pad: number): tf.Tensor2D {
  const [n, h, w, c] = x.shape;
  const taps = kh * kw;
  const index = new Int32Array(pixels.length * taps);
  const mask = new Float32Array(pixels.length * taps);
  let outside = false;
  let o = 0;
  for (const p of pixels) {
    const r = Math.floor(p / w) % h;
    const col = p % w;
    for (let i = 0; i < kh; i++) {
      const rr = r + i - pad;
      for (let j = 0; j < kw; j++, o++) {
        const cc = col + j - pad;
        if (rr >= 0 && rr < h && cc >= 0 && cc < w) {
          index[o] = p + (i - pad) * w + (j - pad);
          mask[o] = 1;
        } else {
          index[o] = p;
          outside = true;
        }
      }
    }
  }
  let rows = tf.reshape(tf.gather(tf.reshape(x, [n * h * w, c]), tf.tensor1d(index, 'int32')), [pixels.length, taps, c]);
  if (outside) rows = tf.mul(rows, tf.tensor3d(mask, [pixels.length, taps, 1]));
  return tf.reshape(rows, [pixels.length, taps * c]) as tf.Tensor2D;
}
