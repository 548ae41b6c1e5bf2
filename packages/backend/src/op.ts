import { tf } from './tf.js';

/**
 * Wraps a tensor-returning function `name_` the way tfjs-core's `op()` does: the public
 * function drops the trailing underscore and runs inside a named `tf.tidy`, so intermediates
 * are freed without any `dispose` on the normal path.
 *
 * @example
 * const double_ = (x: tf.Tensor) => tf.mul(x, 2);
 * export const double = op({ double_ });
 */
export function op<F extends (...args: never[]) => tf.TensorContainer>(f: Record<string, F>): F {
  const keys = Object.keys(f);
  if (keys.length !== 1) throw new Error(`op() takes an object with one function, got ${keys.length}`);
  const key = keys[0]!;
  const fn = f[key]!;
  const name = key.endsWith('_') ? key.slice(0, -1) : key;
  const wrapped = ((...args: never[]) => tf.tidy(name, () => fn(...args) as never)) as unknown as F;
  Object.defineProperty(wrapped, 'name', { value: name, configurable: true });
  return wrapped;
}
