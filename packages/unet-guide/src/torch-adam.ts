import { tf, assert } from '@patchcert/backend';
import { encodeTensor, decodeTensor, type EncodedTensor } from './internal/tensor-codec.js';

/** Options of {@link TorchAdam}. */
export interface TorchAdamOptions {
  /** Step size. @defaultValue 5e-4 (the reference's MNIST rate; CIFAR uses 1e-3) */
  learningRate?: number;
  /** @defaultValue 0.9 */
  beta1?: number;
  /** @defaultValue 0.999 */
  beta2?: number;
  /** Added to the bias-corrected √v. @defaultValue 1e-8 */
  epsilon?: number;
}

const DEFAULT_ADAM: Required<TorchAdamOptions> = { learningRate: 5e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/** Serializable Adam state: step count and both moments per variable, exact. */
export interface TorchAdamState {
  step: number;
  learningRate: number;
  m: Record<string, EncodedTensor>;
  v: Record<string, EncodedTensor>;
}

/**
 * Adam with PyTorch 1.x semantics (reference §16): θ ← θ − lr·m̂ / (√v̂ + ε) with
 * m̂ = m/(1−β1^t), v̂ = v/(1−β2^t), weight decay 0. tfjs's own Adam folds ε in differently and
 * keeps its moments in anonymous variables, so the U-Net gets this small explicit one whose
 * state goes into checkpoints.
 */
export class TorchAdam {
  private readonly options: Required<TorchAdamOptions>;
  private readonly vars: ReadonlyArray<readonly [string, tf.Variable]>;
  /**
   * Both moments of every parameter in one flat variable each, parameters in order: one update
   * is a dozen ops on two vectors instead of a dozen per parameter (the U-Net has 89).
   */
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;
  private readonly sizes: number[];
  private readonly offsets: number[];
  private t = 0;

  /**
   * @param vars - the parameters by stable name.
   * @throws PatchcertError `INVALID_OPTION` for a non-positive learning rate or betas outside [0,1).
   */
  constructor(vars: ReadonlyArray<readonly [string, tf.Variable]>, options: TorchAdamOptions = {}) {
    this.options = { ...DEFAULT_ADAM, ...options };
    const { learningRate, beta1, beta2 } = this.options;
    assert(learningRate > 0, () => `Error in TorchAdam: learningRate must be > 0, but got ${learningRate}.`, 'INVALID_OPTION');
    assert(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, () => `Error in TorchAdam: beta1 and beta2 must be in [0, 1), but got ${beta1}, ${beta2}.`, 'INVALID_OPTION');
    this.vars = vars;
    this.sizes = vars.map(([, p]) => p.size);
    this.offsets = this.sizes.map((_, i) => this.sizes.slice(0, i).reduce((a, b) => a + b, 0));
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.variable(tf.zeros([total]), false);
    this.v = tf.variable(tf.zeros([total]), false);
  }

  get learningRate(): number {
    return this.options.learningRate;
  }

  /** Changes the step size (the trainer's StepLR halving applies to the U-Net too, §7.4). */
  set learningRate(lr: number) {
    assert(lr > 0, () => `Error in TorchAdam.learningRate: learningRate must be > 0, but got ${lr}.`, 'INVALID_OPTION');
    this.options.learningRate = lr;
  }

  /** Steps taken so far. */
  get step(): number {
    return this.t;
  }

  /**
   * One update. Variables without a gradient in `grads` keep their value and moments but still
   * count the step, as in PyTorch where a parameter with `grad = None` is skipped.
   */
  apply(grads: Record<string, tf.Tensor>): void {
    this.t += 1;
    const { learningRate: lr, beta1: b1, beta2: b2, epsilon } = this.options;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    tf.tidy(() => {
      const has = this.vars.map(([name]) => grads[name] !== undefined);
      if (!has.some(Boolean)) return;
      // Zero where a parameter has no gradient; its moments and value are put back below.
      const g = tf.concat(this.vars.map(([name, p]) => (grads[name] ? tf.reshape(grads[name]!, [p.size]) : tf.zeros([p.size]))));
      const m = tf.add(tf.mul(this.m, b1), tf.mul(g, 1 - b1));
      const v = tf.add(tf.mul(this.v, b2), tf.mul(tf.square(g), 1 - b2));
      const denom = tf.add(tf.sqrt(tf.div(v, c2)), epsilon);
      const steps = tf.split(tf.mul(tf.div(tf.div(m, c1), denom), lr), this.sizes);
      const all = has.every(Boolean);
      const keep = (fresh: tf.Tensor, old: tf.Variable): tf.Tensor =>
        all ? fresh : tf.concat(this.vars.map((_, i) => tf.slice(has[i] ? fresh : old, [this.offsets[i]!], [this.sizes[i]!])));
      this.m.assign(keep(m, this.m));
      this.v.assign(keep(v, this.v));
      this.vars.forEach(([, p], i) => {
        if (has[i]) p.assign(tf.sub(p, tf.reshape(steps[i]!, p.shape)));
      });
    });
  }

  getState(): TorchAdamState {
    const m: Record<string, EncodedTensor> = {};
    const v: Record<string, EncodedTensor> = {};
    tf.tidy(() => {
      this.vars.forEach(([name, p], i) => {
        m[name] = encodeTensor(tf.reshape(tf.slice(this.m, [this.offsets[i]!], [this.sizes[i]!]), p.shape));
        v[name] = encodeTensor(tf.reshape(tf.slice(this.v, [this.offsets[i]!], [this.sizes[i]!]), p.shape));
      });
    });
    return { step: this.t, learningRate: this.options.learningRate, m, v };
  }

  /** @throws PatchcertError `DATA_FORMAT` / `SHAPE_MISMATCH` for a state of another model. */
  setState(state: TorchAdamState): void {
    assert(
      state && Number.isInteger(state.step) && state.step >= 0,
      () => `Error in TorchAdam.setState: state.step must be a non-negative integer, but got ${state?.step}.`,
      'DATA_FORMAT',
    );
    const loaded = this.vars.map(([name, p]) => [
      name,
      decodeTensor(state.m?.[name], p.shape, `m['${name}']`, 'TorchAdam.setState'),
      decodeTensor(state.v?.[name], p.shape, `v['${name}']`, 'TorchAdam.setState'),
    ] as const);
    tf.tidy(() => {
      this.m.assign(tf.concat(loaded.map(([, m]) => tf.reshape(m, [m.size]))));
      this.v.assign(tf.concat(loaded.map(([, , v]) => tf.reshape(v, [v.size]))));
    });
    for (const [, m, v] of loaded) tf.dispose([m, v]);
    this.t = state.step;
    if (typeof state.learningRate === 'number' && state.learningRate > 0) this.options.learningRate = state.learningRate;
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
