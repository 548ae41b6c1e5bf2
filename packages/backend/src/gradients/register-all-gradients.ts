// Registers the gradients of patchcert's custom kernels with tfjs (one registry for every backend).
// The list is explicit so it reads as the set of differentiable patchcert kernels. initBackend
// calls registerGradients() for every backend; it is idempotent.
import { tf } from '../tf.js';
import { intervalReluGradConfig } from './IntervalRelu.grad.js';

/** Every patchcert gradient config. */
export const GRADIENT_CONFIGS: readonly tf.GradConfig[] = [intervalReluGradConfig];

/** Registers every patchcert gradient once (later calls do nothing). */
export function registerGradients(): void {
  for (const config of GRADIENT_CONFIGS) {
    if (tf.getGradient(config.kernelName) !== undefined) continue;
    tf.registerGradient(config);
  }
}
