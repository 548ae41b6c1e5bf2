// The U-Net's convolution as one op with its own gradient. It avoids three slow spots of tf.conv2d
// plus tf.add on wasm (CPU ms at batch 256, 28×28, 6 channels, measured under load): the
// separate bias Add (~7 per conv; XNNPACK adds the bias inside the conv), the bias gradient's
// Sum over batch and space (a transpose plus a slow reduction; here a matMul), and 1×1
// convolutions, whose weight gradient runs as a 28×28-filter convolution (23) where X^T·dY is
// one matMul (4). Everything else calls the kernels tf.conv2d's own gradient calls.
import { tf } from '@patchcert/backend';
import { channelSum } from './channel-stats.js';

/**
 * conv2d(x, kernel, stride, pad) + bias, NHWC with a symmetric numeric pad, differentiable
 * with respect to all three inputs.
 *
 * @param bias - `[cout]`, or null for none.
 * @param inputGrad - false where x is data (the images): its gradient, a full transposed
 *   convolution, is then never computed, and x is not differentiable through this op.
 */
export function conv2dBias(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | null, stride: number, pad: number, inputGrad = true): tf.Tensor4D {
  const [kh, kw, cin, cout] = kernel.shape;
  const pointwise = kh === 1 && kw === 1 && stride === 1 && pad === 0;
  const forward = (xv: tf.Tensor4D, kv: tf.Tensor4D, bv: tf.Tensor1D | undefined): tf.Tensor4D => {
    if (pointwise) {
      const [n, h, w] = xv.shape;
      const y = tf.fused.matMul({ a: tf.reshape(xv, [n * h * w, cin]), b: tf.reshape(kv, [cin, cout]), ...(bv ? { bias: bv } : {}) });
      return tf.reshape(y, [n, h, w, cout]);
    }
    return tf.fused.conv2d({ x: xv, filter: kv, strides: stride, pad, ...(bv ? { bias: bv } : {}) });
  };
  const inputGradient = (dy: tf.Tensor4D, kv: tf.Tensor4D): tf.Tensor4D => {
    if (!pointwise) return tf.conv2dTranspose(dy, kv, x.shape, stride, pad);
    const dx = tf.matMul(tf.reshape(dy, [dy.size / cout, cout]) as tf.Tensor2D, tf.reshape(kv, [cin, cout]) as tf.Tensor2D, false, true);
    return tf.reshape(dx, x.shape);
  };
  const kernelGradient = (dy: tf.Tensor4D, xv: tf.Tensor4D): tf.Tensor4D => {
    if (!pointwise) {
      return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xv, dy }, { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape: kernel.shape }) as tf.Tensor4D;
    }
    const rows = xv.size / cin;
    return tf.reshape(tf.matMul(tf.reshape(xv, [rows, cin]) as tf.Tensor2D, tf.reshape(dy, [rows, cout]) as tf.Tensor2D, true, false), kernel.shape);
  };
  // One op over [x?, kernel, bias?]; customGrad passes its save function last.
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const inputs = args as tf.Tensor[];
    const xv = (inputGrad ? inputs[0] : x) as tf.Tensor4D;
    const kv = inputs[inputGrad ? 1 : 0] as tf.Tensor4D;
    const bv = inputs[inputGrad ? 2 : 1] as tf.Tensor1D | undefined;
    save([xv, kv]);
    return {
      value: forward(xv, kv, bv),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sk] = saved as [tf.Tensor4D, tf.Tensor4D];
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
