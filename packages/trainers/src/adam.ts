import { tf, assert, PatchcertError } from '@patchcert/backend';

/** Options of {@link Adam}; PyTorch's defaults. */
export interface AdamOptions {
  /** @defaultValue 0.9 */
  beta1?: number;
  /** @defaultValue 0.999 */
  beta2?: number;
  /** Added to the bias-corrected √v. @defaultValue 1e-8 */
  epsilon?: number;
  /** Coupled L2 decay added to the gradient (g + wd·θ). @defaultValue 0 */
  weightDecay?: number;
}

const DEFAULT_ADAM_OPTIONS: Required<AdamOptions> = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0 };

/** Serializable state of an {@link Adam}: step count and the moment buffers, variable by variable. */
export interface AdamState {
  step: number;
  options: Required<AdamOptions>;
  /** First moments, one flat float32 array per variable, in variable order. */
  m: Float32Array[];
  /** Second moments. */
  v: Float32Array[];
}

/**
 * Adam with PyTorch 1.x semantics (reference-spec §16), its state in plain view so checkpoints
 * save and restore it exactly:
 * t ← t+1; g ← g + wd·θ; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * θ ← θ − lr·(m/(1−β1^t)) / (√(v/(1−β2^t)) + ε).
 * The learning rate is passed to every step, so the schedule stays outside the optimizer.
 *
 * @example
 * const adam = new Adam(model.trainableVariables());
 * const { grads } = tf.variableGrads(() => loss(), adam.variables);
 * adam.step(grads, 5e-4);
 */
export class Adam {
  readonly variables: tf.Variable[];
  readonly options: Required<AdamOptions>;
  private t = 0;
  private m: tf.Variable[];
  private v: tf.Variable[];

  constructor(variables: tf.Variable[], options: AdamOptions = {}) {
    this.variables = variables;
    this.options = { ...DEFAULT_ADAM_OPTIONS, ...options };
    // tidy frees the zero initial values; variables survive it.
    this.m = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
    this.v = variables.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  }

  /** Number of steps taken. */
  get stepCount(): number {
    return this.t;
  }

  /**
   * Applies one update.
   * @param grads - gradients by variable name (as `tf.variableGrads` returns them); every
   *   variable must have one.
   * @param lr - learning rate of this step.
   * @throws PatchcertError `INVALID_ARGUMENT` when a variable has no gradient.
   */
  step(grads: Record<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    this.t += 1;
    const bc1 = 1 - Math.pow(beta1, this.t);
    const bc2 = 1 - Math.pow(beta2, this.t);
    tf.tidy(() => {
      this.variables.forEach((x, i) => {
        let g = grads[x.name];
        assert(g !== undefined, () => `Error in Adam.step: grads must hold a gradient for variable '${x.name}', but it is missing.`);
        if (weightDecay !== 0) g = tf.add(g, tf.mul(x, weightDecay));
        const m = tf.add(tf.mul(this.m[i]!, beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        const denom = tf.add(tf.sqrt(tf.div(v, bc2)), epsilon);
        x.assign(tf.sub(x, tf.mul(tf.div(tf.div(m, bc1), denom), lr)));
      });
    });
  }

  /** Copies the state out (for checkpoints). */
  async getState(): Promise<AdamState> {
    const m = await Promise.all(this.m.map(async (t) => (await t.data()) as Float32Array));
    const v = await Promise.all(this.v.map(async (t) => (await t.data()) as Float32Array));
    return { step: this.t, options: { ...this.options }, m: m.map((a) => Float32Array.from(a)), v: v.map((a) => Float32Array.from(a)) };
  }

  /**
   * Restores a state saved by {@link getState}.
   * @throws PatchcertError `SHAPE_MISMATCH` when the buffers do not fit the variables.
   */
  setState(state: AdamState): void {
    if (state.m.length !== this.variables.length || state.v.length !== this.variables.length) {
      throw new PatchcertError(
        'SHAPE_MISMATCH',
        `Error in Adam.setState: state must hold ${this.variables.length} moment buffers, but got ${state.m.length} and ${state.v.length}.`,
      );
    }
    this.variables.forEach((x, i) => {
      const m = state.m[i]!;
      const v = state.v[i]!;
      assert(m.length === x.size && v.length === x.size, () => `Error in Adam.setState: buffer ${i} must have ${x.size} values, but got ${m.length} and ${v.length}.`, 'SHAPE_MISMATCH');
      tf.tidy(() => {
        this.m[i]!.assign(tf.tensor(m, x.shape, 'float32'));
        this.v[i]!.assign(tf.tensor(v, x.shape, 'float32'));
      });
    });
    this.t = state.step;
  }

  /** Frees the moment buffers (not the variables being optimized). */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
