import { suite } from 'uvu';
import { initBackend, tf } from '@patchcert/backend';
import { certificateLoss, crossEntropy } from '@patchcert/trainers';
import { assertClose } from './helpers.js';

await initBackend('wasm');

const ce = suite('crossEntropy');

ce('should be the batch mean of −log softmax at the label', () => {
  const logits = [[1, 2, 3], [0, 0, 0]];
  const v = tf.tidy(() => crossEntropy(tf.tensor2d(logits), tf.tensor1d([2, 0], 'int32')).dataSync()[0]!);
  const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
  assertClose(v, ((lse - 3) + Math.log(3)) / 2, 1e-6);
});

ce.run();

// ---

const cert = suite('certificateLoss');

cert('should equal mean log(1 + Σ_{j≠y} exp(−m_j)) (reference eq. 10/12)', () => {
  const m = [[0, 1.5, -0.5], [2, 0, 3]];
  const y = [0, 1];
  const v = tf.tidy(() => certificateLoss(tf.tensor2d(m), tf.tensor1d(y, 'int32')).dataSync()[0]!);
  const expect = m.map((row, n) => Math.log(1 + row.reduce((s, mj, j) => (j === y[n] ? s : s + Math.exp(-mj)), 0)));
  assertClose(v, (expect[0]! + expect[1]!) / 2, 1e-6);
});

cert('should equal plain cross-entropy when m are the clean logit margins', () => {
  const z = [[0.3, -1.2, 2.0], [1.0, 0.5, -0.5]];
  const y = [2, 0];
  const [a, b] = tf.tidy(() => {
    const zt = tf.tensor2d(z);
    const yt = tf.tensor1d(y, 'int32');
    const zy = tf.sum(tf.mul(zt, tf.oneHot(yt, 3)), 1, true);
    return [certificateLoss(tf.sub(zy, zt) as tf.Tensor2D, yt).dataSync()[0]!, crossEntropy(zt, yt).dataSync()[0]!];
  });
  assertClose(a, b, 1e-6);
});

cert.run();
