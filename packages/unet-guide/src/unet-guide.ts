import { tf, assert, PatchcertError } from '@patchcert/backend';
import { ResNetUNet } from './resnet-unet.js';
import { TorchAdam, type TorchAdamState } from './torch-adam.js';
import { withOwnTape } from './internal/own-tape.js';
import { sampleGuidedLocationsOf, type GuidedSample, type RandomWords } from './guided-sampler.js';
import { encodeTensor, decodeTensor, type EncodedTensor } from './internal/tensor-codec.js';
import { joinValues } from './internal/join-arrays.js';
import type { ShardGroup } from './internal/shard-group.js';

/** Options of {@link UNetGuide}; every optional field has the default listed. */
export interface UNetGuideOptions {
  /** `[height, width, channels]` of the images. */
  inputShape: [number, number, number];
  /** Patch `[height, width]` (or n for n×n); the location grid is (H−ph+1)×(W−pw+1). */
  patch: number | [number, number];
  /** @defaultValue 10 */
  classes?: number;
  /** Locations drawn per (image, class): 1 for guide10, 2 for guide20. @defaultValue 1 */
  drawsPerClass?: number;
  /** @defaultValue 6 for one channel, 10 otherwise (reference configs) */
  baseWidth?: number;
  /** Seed of the U-Net's initialization. @defaultValue 0 */
  seed?: number;
  /** The U-Net's Adam step size (the reference uses the classifier's). @defaultValue 5e-4 */
  learningRate?: number;
  /** T in softmax(−T·prediction). @defaultValue 1 */
  temperature?: number;
  /**
   * Reference quirk Q1 (§7.4): gradients are summed over the steps of an epoch and only zeroed
   * by {@link UNetGuide.startEpoch}, so Adam sees the cumulative sum. @defaultValue false
   */
  accumulateGradients?: boolean;
  /** Reference quirk Q2 (§7.2): transposed index → coordinates. @defaultValue false */
  transposeCoordinates?: boolean;
  /**
   * The data-parallel replicas this guide trains with (guide-pool.ts): BatchNorm statistics,
   * the MSE's mean and the gradients are then over all their shards. @internal
   */
  group?: ShardGroup;
}

/** The rows of the U-Net's MSE: one per distinct drawn cell. */
interface FitRows {
  /** Flat full-image pixels n·H·W + r·W + c of the cells' corners. */
  pixels: Int32Array;
  /** The same cells as flat indices n·rows·cols + cell of the location grid. */
  cells: Int32Array;
  /** True margins `[rows, classes]`. */
  values: Float32Array;
  /** Draws per row (repeated draws of one cell share its true bound). */
  weights: Float32Array;
}

/** What {@link UNetGuide.getState} returns: everything needed to resume exactly. */
export interface UNetGuideState {
  format: 'patchcert-unet-guide/1';
  config: Required<Omit<UNetGuideOptions, 'patch' | 'seed' | 'group'>> & { patch: [number, number] };
  unet: Record<string, EncodedTensor>;
  adam: TorchAdamState;
  /** Summed gradients of the current epoch (only with `accumulateGradients`). */
  accumulated: Record<string, EncodedTensor> | null;
}

/**
 * The U-Net margin predictor with its training: samples guided locations for a batch and fits
 * the U-Net by MSE to the true per-location margins of those locations (reference §7.2-7.4).
 * Owns the U-Net, its PyTorch-style Adam and (with `accumulateGradients`) the epoch's summed
 * gradients; all of it goes into {@link getState}.
 */
export class UNetGuide {
  readonly unet: ResNetUNet;
  readonly patch: [number, number];
  readonly drawsPerClass: number;
  readonly temperature: number;
  readonly accumulateGradients: boolean;
  readonly transposeCoordinates: boolean;
  private readonly adam: TorchAdam;
  private readonly nameOf = new Map<string, string>();
  private accumulated: Map<string, tf.Tensor> | null = null;
  private readonly learningRate0: number;
  private readonly group: ShardGroup | undefined;

  /** @throws PatchcertError `INVALID_OPTION` for a patch that does not fit or a bad k. */
  constructor(options: UNetGuideOptions) {
    this.unet = new ResNetUNet({
      inputShape: options.inputShape,
      classes: options.classes ?? 10,
      baseWidth: options.baseWidth,
      seed: options.seed ?? 0,
      ...(options.group ? { group: options.group } : {}),
    });
    this.group = options.group;
    const [h, w] = this.unet.inputShape;
    this.patch = typeof options.patch === 'number' ? [options.patch, options.patch] : [options.patch[0], options.patch[1]];
    const [ph, pw] = this.patch;
    assert(
      Number.isInteger(ph) && Number.isInteger(pw) && ph >= 1 && pw >= 1 && ph <= h && pw <= w,
      () => `Error in UNetGuide: patch must fit the ${h}×${w} image, but got ${ph}×${pw}.`,
      'INVALID_OPTION',
    );
    this.drawsPerClass = options.drawsPerClass ?? 1;
    const cells = (h - ph + 1) * (w - pw + 1);
    assert(Number.isInteger(this.drawsPerClass) && this.drawsPerClass >= 1 && this.drawsPerClass <= cells, () => `Error in UNetGuide: drawsPerClass must be an integer in [1, ${cells}], but got ${options.drawsPerClass}.`, 'INVALID_OPTION');
    this.temperature = options.temperature ?? 1;
    this.accumulateGradients = options.accumulateGradients ?? false;
    this.transposeCoordinates = options.transposeCoordinates ?? false;
    this.learningRate0 = options.learningRate ?? 5e-4;
    const trainable = this.unet.namedVariables().filter(([, v]) => v.trainable);
    for (const [name, v] of trainable) this.nameOf.set(v.name, name);
    this.adam = new TorchAdam(trainable, { learningRate: this.learningRate0 });
  }

  /** Location grid `[rows, cols]`. */
  get grid(): [number, number] {
    return [this.unet.inputShape[0] - this.patch[0] + 1, this.unet.inputShape[1] - this.patch[1] + 1];
  }

  /** The U-Net's current Adam step size. */
  get learningRate(): number {
    return this.adam.learningRate;
  }

  set learningRate(lr: number) {
    this.adam.learningRate = lr;
  }

  /**
   * Predicted margins `[batch, rows, cols, classes]` for normalized images.
   * @param training - BatchNorm on batch statistics (without touching the running ones).
   */
  predict(x: tf.Tensor4D, training = false): tf.Tensor4D {
    return this.unet.predictMargins(x, this.patch, { training, updateRunningStats: false });
  }

  /**
   * Draws the guided locations of a batch: k per (image, class) from softmax(−T·prediction),
   * merged per image (see {@link GuidedSample}).
   *
   * @param x - normalized images `[batch, height, width, channels]`.
   * @param rng - the run's generator (the Gumbel noise), or a source of its words (see
   *   {@link sampleGuidedLocationsOf}).
   * @param training - BatchNorm mode of the prediction (train mode in training steps, §7.1).
   */
  sample(x: tf.Tensor4D, rng: RandomWords, training: boolean): GuidedSample {
    const pred = this.predict(x, training);
    try {
      return this.draw(pred, rng);
    } finally {
      pred.dispose();
    }
  }

  /**
   * One training step of the U-Net: MSE between its predictions at every draw of `sample`
   * (all class channels) and the detached true margins there, the mean over all
   * batch·(classes·drawsPerClass)·classes entries including the true-class zeros (§7.3), then one Adam step.
   * The forward runs in train mode and updates the BatchNorm running statistics.
   *
   * @param x - the normalized images `sample` was drawn for.
   * @param sample - from {@link sample}.
   * @param margins - true margin lower bounds `[batch, sample.width, classes]` (0 at y) for
   *   `sample.locations`, as values or a tensor (read, not differentiated).
   * @returns the MSE before the step.
   * @throws PatchcertError `SHAPE_MISMATCH` when `margins` does not match `sample`.
   */
  fit(x: tf.Tensor4D, sample: GuidedSample, margins: ArrayLike<number> | tf.Tensor): number {
    const targets = margins instanceof tf.Tensor ? margins.dataSync() : margins;
    this.checkTargets(x.shape[0], sample, targets);
    const rows = this.fitRows(sample, targets);
    const meanBatch = this.groupBatch(x.shape[0]);
    const { value, grads } = tf.variableGrads(
      () => this.rowLoss(this.unet.forwardAt(x, this.patch, { training: true, updateRunningStats: true }, rows.pixels), sample, rows, meanBatch),
      this.unet.trainableVariables(),
    );
    return this.step(value, grads);
  }

  /**
   * {@link sample} and {@link fit} in one forward pass of the U-Net: the train-mode prediction the
   * draws come from is the one the MSE is taken of (the weights and batch statistics are the
   * same in both, so the result is the same as calling the two in turn).
   *
   * @param x - normalized images `[batch, height, width, channels]`.
   * @param rng - the run's generator (the Gumbel noise), or a source of its words (see
   *   {@link sampleGuidedLocationsOf}).
   * @param bound - the true margins `[batch, sample.width, classes]` of the drawn locations (read,
   *   not differentiated by the U-Net); called once, between the draw and the U-Net's update.
   * @returns the draw and the MSE before the update.
   */
  sampleAndFit(x: tf.Tensor4D, rng: RandomWords, bound: (sample: GuidedSample) => ArrayLike<number>): { sample: GuidedSample; loss: number } {
    let sample: GuidedSample | undefined;
    let rows: FitRows | undefined;
    const meanBatch = this.groupBatch(x.shape[0]);
    // The U-Net's pass, backward pass and Adam step run on a tape of their own, and only the
    // bounds go on the caller's (the classifier's) tape: see own-tape.ts.
    return withOwnTape((onCallerTape) => {
      const { value, grads } = tf.variableGrads(() => {
        const at = this.unet.forwardAt(x, this.patch, { training: true, updateRunningStats: true }, (p) => {
          sample = this.draw(p, rng);
          const targets = onCallerTape(() => bound(sample!));
          this.checkTargets(x.shape[0], sample, targets);
          rows = this.fitRows(sample, targets);
          return rows.pixels;
        });
        return this.rowLoss(at, sample!, rows!, meanBatch);
      }, this.unet.trainableVariables());
      return { sample: sample!, loss: this.step(value, grads) };
    });
  }

  /**
   * The distinct drawn cells of `sample` as the rows the U-Net's MSE is taken over: full-image
   * pixels (a cell's corner), their true margins and how many draws hit each.
   */
  private fitRows(sample: GuidedSample, targets: ArrayLike<number>): FitRows {
    const { batch, width, classes, counts, cellSlots } = sample;
    const [rows, cols] = sample.grid;
    const [h, w] = this.unet.inputShape;
    const cells = rows * cols;
    const total = counts.reduce((a, b) => a + b, 0);
    const pixels = new Int32Array(total);
    const flatCells = new Int32Array(total);
    const values = new Float32Array(total * classes);
    const weights = new Float32Array(total);
    let m = 0;
    for (let n = 0; n < batch; n++) {
      for (let cell = 0; cell < cells; cell++) {
        const slot = cellSlots[n * cells + cell]!;
        if (slot < 0) continue;
        pixels[m] = (n * h + Math.floor(cell / cols)) * w + (cell % cols);
        flatCells[m] = n * cells + cell;
        weights[m] = sample.cellCounts[n * cells + cell]!;
        const src = (n * width + slot) * classes;
        for (let j = 0; j < classes; j++) values[m * classes + j] = targets[src + j]!;
        m++;
      }
    }
    return { pixels, cells: flatCells, values, weights };
  }

  /**
   * The U-Net's MSE from its predictions at the rows of {@link fitRows}: Σ_draws (p − t)² =
   * Σ_rows count·(p − t_row)² (repeated draws of one cell share its true bound), over all
   * batch·(classes·drawsPerClass)·classes entries including the true-class zeros (§7.3).
   */
  private rowLoss(at: tf.Tensor2D, sample: GuidedSample, rows: FitRows, batch = sample.batch): tf.Scalar {
    const { classes, drawsPerClass } = sample;
    const m = rows.pixels.length;
    const d = tf.sub(at, tf.tensor2d(rows.values, [m, classes]));
    const weighted = tf.mul(tf.tensor2d(rows.weights, [m, 1]), tf.square(d));
    return tf.div(tf.sum(weighted), batch * classes * drawsPerClass * classes) as tf.Scalar;
  }

  /** The batch the MSE is a mean over: this one's, or with a group all shards' together. */
  private groupBatch(batch: number): number {
    return this.group ? this.group.sumShards(Float32Array.of(batch))[0]! : batch;
  }

  private draw(prediction: tf.Tensor4D, rng: RandomWords): GuidedSample {
    return sampleGuidedLocationsOf(prediction, this.drawsPerClass, rng, {
      temperature: this.temperature,
      transposeCoordinates: this.transposeCoordinates,
    });
  }

  /**
   * The U-Net's MSE at the draws of `sample` (all class channels), the mean over all
   * batch·(classes·drawsPerClass)·classes entries including the true-class zeros (§7.3):
   * what {@link fit} minimizes, differentiable with respect to `p`.
   *
   * @param p - predicted margins `[batch, rows, cols, classes]` (e.g. {@link predict}).
   * @param targets - true margins `[batch, sample.width, classes]` of `sample.locations`.
   * @throws PatchcertError `SHAPE_MISMATCH` when `targets` or `p` does not match `sample`.
   */
  fitLoss(p: tf.Tensor4D, sample: GuidedSample, targets: ArrayLike<number>): tf.Scalar {
    this.checkTargets(p.shape[0], sample, targets);
    const [rows0, cols0] = sample.grid;
    if (p.shape[1] !== rows0 || p.shape[2] !== cols0 || p.shape[3] !== sample.classes) {
      throw new PatchcertError(
        'SHAPE_MISMATCH',
        `Error in UNetGuide.fitLoss: p must be [${sample.batch}, ${rows0}, ${cols0}, ${sample.classes}] (the sample's grid), but got [${p.shape.join(', ')}].`,
      );
    }
    const rows = this.fitRows(sample, targets);
    const classes = p.shape[3];
    return this.rowLoss(tf.gather(tf.reshape(p, [-1, classes]), tf.tensor1d(rows.cells, 'int32')) as tf.Tensor2D, sample, rows);
  }

  private checkTargets(images: number, sample: GuidedSample, targets: ArrayLike<number>): void {
    const { batch, width, classes } = sample;
    if (targets.length !== batch * width * classes || images !== batch || classes !== this.unet.classes) {
      throw new PatchcertError(
        'SHAPE_MISMATCH',
        `Error in UNetGuide.fit: margins must be [${batch}, ${width}, ${this.unet.classes}] for a batch of ${images}, but got ${targets.length} values for ${classes} classes.`,
      );
    }
  }

  /**
   * A data-parallel replica's part of a step without images of its own (a batch smaller than the
   * group): it adds zero gradients to the group's sum and takes the same Adam step as the rest.
   * @internal
   */
  idleStep(): void {
    assert(this.group, () => 'Error in UNetGuide.idleStep: only a replica of a group can take a step without images.');
    const grads: tf.NamedTensorMap = {};
    for (const v of this.unet.trainableVariables()) grads[v.name] = tf.zerosLike(v);
    this.step(tf.scalar(0), grads);
  }

  /**
   * With a group: the gradients summed over every replica (and, when some replica had no images,
   * rank 0's BatchNorm running statistics copied to all), so every replica takes the same step.
   */
  private reduceOverGroup(group: ShardGroup, grads: tf.NamedTensorMap): tf.NamedTensorMap {
    const trainable = this.unet.trainableVariables();
    const running = group.partial ? this.unet.namedVariables().filter(([, v]) => !v.trainable).map(([, v]) => v) : [];
    const mine = (v: tf.Variable) => (group.rank === 0 ? v.dataSync() : new Float32Array(v.size));
    const sum = group.sumReplicas(joinValues(...trainable.map((v) => grads[v.name]!.dataSync()), ...running.map(mine)));
    let at = 0;
    const take = (v: tf.Variable) => tf.tensor(sum.subarray(at, (at += v.size)), v.shape);
    const out: tf.NamedTensorMap = {};
    for (const v of trainable) out[v.name] = take(v);
    for (const v of running) {
      const t = take(v);
      v.assign(t);
      t.dispose();
    }
    tf.dispose(Object.values(grads));
    return out;
  }

  /** One Adam step on the gradients (summed over the epoch with `accumulateGradients`); returns the loss. */
  private step(value: tf.Scalar, grads: tf.NamedTensorMap): number {
    if (this.group) grads = this.reduceOverGroup(this.group, grads);
    const byName: Record<string, tf.Tensor> = {};
    for (const [vname, g] of Object.entries(grads)) byName[this.nameOf.get(vname) ?? vname] = g;
    if (this.accumulateGradients) {
      this.accumulated ??= new Map();
      for (const [name, g] of Object.entries(byName)) {
        const prev = this.accumulated.get(name);
        if (prev) {
          this.accumulated.set(name, tf.add(prev, g));
          prev.dispose();
          g.dispose();
        } else {
          this.accumulated.set(name, g);
        }
      }
      this.adam.apply(Object.fromEntries(this.accumulated));
    } else {
      this.adam.apply(byName);
      for (const g of Object.values(byName)) g.dispose();
    }
    const loss = value.dataSync()[0]!;
    value.dispose();
    return loss;
  }

  /** Zeroes the summed gradients (`accumulateGradients`); call at the start of every epoch. */
  startEpoch(): void {
    if (!this.accumulated) return;
    for (const g of this.accumulated.values()) g.dispose();
    this.accumulated = null;
  }

  getState(): UNetGuideState {
    let accumulated: Record<string, EncodedTensor> | null = null;
    if (this.accumulated) {
      accumulated = {};
      for (const [name, g] of this.accumulated) accumulated[name] = encodeTensor(g);
    }
    return {
      format: 'patchcert-unet-guide/1',
      config: {
        inputShape: [...this.unet.inputShape],
        patch: [...this.patch],
        classes: this.unet.classes,
        drawsPerClass: this.drawsPerClass,
        baseWidth: this.unet.baseWidth,
        learningRate: this.learningRate0,
        temperature: this.temperature,
        accumulateGradients: this.accumulateGradients,
        transposeCoordinates: this.transposeCoordinates,
      },
      unet: this.unet.getState(),
      adam: this.adam.getState(),
      accumulated,
    };
  }

  /**
   * Restores weights, running statistics, Adam and summed gradients.
   * @throws PatchcertError `DATA_FORMAT` for another format, `SHAPE_MISMATCH` for another architecture.
   */
  setState(state: UNetGuideState): void {
    assert(
      state?.format === 'patchcert-unet-guide/1',
      () => `Error in UNetGuide.setState: state.format must be 'patchcert-unet-guide/1', but got ${JSON.stringify(state?.format)}.`,
      'DATA_FORMAT',
    );
    this.unet.setState(state.unet);
    this.adam.setState(state.adam);
    this.startEpoch();
    if (state.accumulated) {
      this.accumulated = new Map();
      const shapes = new Map(this.unet.namedVariables().map(([n, v]) => [n, v.shape] as const));
      for (const [name, enc] of Object.entries(state.accumulated)) {
        const shape = shapes.get(name);
        if (!shape) throw new PatchcertError('SHAPE_MISMATCH', `Error in UNetGuide.setState: accumulated gradient '${name}' must name a U-Net variable, but no such variable exists.`);
        this.accumulated.set(name, decodeTensor(enc, shape, `accumulated['${name}']`, 'UNetGuide.setState'));
      }
    }
  }

  /** Builds a guide from a saved state (the config is stored with it). */
  static fromState(state: UNetGuideState): UNetGuide {
    assert(state?.config, () => 'Error in UNetGuide.fromState: state.config must be present, but got none.', 'DATA_FORMAT');
    const g = new UNetGuide({ ...state.config });
    g.setState(state);
    return g;
  }

  dispose(): void {
    this.startEpoch();
    this.adam.dispose();
    this.unet.dispose();
  }
}
