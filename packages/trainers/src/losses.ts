import { tf, op } from '@patchcert/backend';

const crossEntropy_ = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => {
  const classes = logits.shape[1];
  const oneHot = tf.oneHot(tf.cast(labels, 'int32'), classes);
  const logp = tf.logSoftmax(logits);
  return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logp), 1))) as tf.Scalar;
};

/**
 * Mean softmax cross-entropy (PyTorch `CrossEntropyLoss`: log-softmax plus NLL, mean over the
 * batch).
 * @param logits - `[batch, classes]`.
 * @param labels - `[batch]` integer classes.
 */
export const crossEntropy = op({ crossEntropy_ });

const certificateLoss_ = (margins: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => crossEntropy(tf.neg(margins), labels);

/**
 * The certificate-training loss CE(−m, y) = mean log(1 + Σ_{j≠y} exp(−m_j)) (reference §6.1).
 * @param margins - worst-case margin lower bounds `[batch, classes]`, 0 in the y slot.
 * @param labels - `[batch]` integer classes.
 */
export const certificateLoss = op({ certificateLoss_ });
