import { tf, Rng, PatchcertError, assert } from '@patchcert/backend';
import { encodeTensor, decodeTensor, type EncodedTensor } from './internal/tensor-codec.js';
import { conv2dBias, windowsAt } from './internal/conv-ops.js';
import { batchNormalize } from './internal/batch-norm.js';
import { channelMoments } from './internal/channel-stats.js';
import type { ShardGroup } from './internal/shard-group.js';

/** Options of {@link ResNetUNet}. All optional fields have the defaults listed. */
export interface ResNetUNetOptions {
  /** `[height, width, channels]` of the (normalized) images it reads. */
  inputShape: [number, number, number];
  /** Output channels: one predicted margin per class. @defaultValue 10 */
  classes?: number;
  /**
   * Channels of the first stage; later stages use 2× and 4×.
   * @defaultValue 6 for one input channel (MNIST, 39,040 parameters), 10 otherwise (CIFAR, 108,540)
   */
  baseWidth?: number;
  /** Seed of the initialization (ignored when `rng` is given). @defaultValue 0 */
  seed?: number;
  /** Generator to draw the initialization from (e.g. a child of the run's Rng). */
  rng?: Rng;
  /**
   * Data-parallel replicas this one trains with (guide-pool.ts): train-mode BatchNorm then
   * normalizes with the statistics of all their shards together. @internal
   */
  group?: ShardGroup;
}

/** BatchNorm2d constants (PyTorch defaults). */
const BN_EPS = 1e-5;
const BN_MOMENTUM = 0.1;

interface Conv {
  kernel: tf.Variable;
  bias: tf.Variable | null;
  stride: number;
  pad: number;
}

interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** The two inputs of conv_original_size2: the upsampled decoder tensor, then x_original. */
interface HeadInputs {
  up: tf.Tensor4D;
  skip: tf.Tensor4D;
}

interface BasicBlock {
  conv1: Conv;
  bn1: BatchNorm;
  conv2: Conv;
  bn2: BatchNorm;
  downsample: { conv: Conv; bn: BatchNorm } | null;
}

/** How a forward pass treats BatchNorm. */
export interface UNetForwardOptions {
  /**
   * Train mode: normalize with the batch statistics (biased variance); otherwise with the
   * running statistics. @defaultValue false
   */
  training?: boolean;
  /**
   * In train mode, also update the running statistics (momentum 0.1, unbiased variance), as one
   * PyTorch forward in train mode does. @defaultValue true when `training`
   */
  updateRunningStats?: boolean;
}

/**
 * The U-Net of guided patch training (reference §7.1): a ResNet-style encoder (two full-size
 * conv3×3+ReLU, conv7×7/2+BN+ReLU, maxpool 3×3/2 and two BasicBlocks, two stride-2 stages of two
 * BasicBlocks) and a decoder that upsamples bilinearly (align_corners=True), concatenates
 * upsampled-then-skip after 1×1 lateral convs, and ends in a 1×1 conv with one output channel per
 * class. Written with plain tf ops and its own variables, NHWC.
 *
 * @example
 * const unet = new ResNetUNet({ inputShape: [28, 28, 1], seed: 1 });
 * unet.parameterCount(); // 39040
 * const pred = unet.predictMargins(x, 2); // [B, 27, 27, 10]
 */
export class ResNetUNet {
  readonly inputShape: [number, number, number];
  readonly classes: number;
  readonly baseWidth: number;
  private readonly named: Array<[string, tf.Variable]> = [];
  private readonly group: ShardGroup | undefined;

  private readonly convOriginalSize0: Conv;
  private readonly convOriginalSize1: Conv;
  private readonly layer0: { conv: Conv; bn: BatchNorm };
  private readonly layer1: BasicBlock[];
  private readonly layer2: BasicBlock[];
  private readonly layer3: BasicBlock[];
  private readonly layer0_1x1: Conv;
  private readonly layer1_1x1: Conv;
  private readonly layer2_1x1: Conv;
  private readonly layer3_1x1: Conv;
  private readonly convUp2: Conv;
  private readonly convUp1: Conv;
  private readonly convUp0: Conv;
  private readonly convOriginalSize2: Conv;
  private readonly convLast: Conv;

  /**
   * @throws PatchcertError `INVALID_OPTION` for a non-positive size, class count or width.
   */
  constructor(options: ResNetUNetOptions) {
    const [h, w, c] = options.inputShape ?? [];
    assert(
      [h, w, c].every((d) => Number.isInteger(d) && d! >= 1),
      () => `Error in ResNetUNet: inputShape must be [height, width, channels] of positive integers, but got ${JSON.stringify(options.inputShape)}.`,
      'INVALID_OPTION',
    );
    this.inputShape = [h!, w!, c!];
    this.classes = options.classes ?? 10;
    this.baseWidth = options.baseWidth ?? (c === 1 ? 6 : 10);
    assert(Number.isInteger(this.classes) && this.classes >= 1, () => `Error in ResNetUNet: classes must be a positive integer, but got ${this.classes}.`, 'INVALID_OPTION');
    assert(Number.isInteger(this.baseWidth) && this.baseWidth >= 1, () => `Error in ResNetUNet: baseWidth must be a positive integer, but got ${this.baseWidth}.`, 'INVALID_OPTION');
    const rng = options.rng ?? new Rng(options.seed ?? 0);
    this.group = options.group;
    const bw = this.baseWidth;

    this.convOriginalSize0 = this.conv('conv_original_size0', rng, 3, c!, bw, 1, 1, true);
    this.convOriginalSize1 = this.conv('conv_original_size1', rng, 3, bw, bw, 1, 1, true);
    this.layer0 = { conv: this.conv('layer0.conv', rng, 7, c!, bw, 2, 3, true), bn: this.bn('layer0.bn', bw) };
    this.layer1 = [this.block('layer1.0', rng, bw, bw, 1), this.block('layer1.1', rng, bw, bw, 1)];
    this.layer2 = [this.block('layer2.0', rng, bw, 2 * bw, 2), this.block('layer2.1', rng, 2 * bw, 2 * bw, 1)];
    this.layer3 = [this.block('layer3.0', rng, 2 * bw, 4 * bw, 2), this.block('layer3.1', rng, 4 * bw, 4 * bw, 1)];
    this.layer0_1x1 = this.conv('layer0_1x1', rng, 1, bw, bw, 1, 0, true);
    this.layer1_1x1 = this.conv('layer1_1x1', rng, 1, bw, bw, 1, 0, true);
    this.layer2_1x1 = this.conv('layer2_1x1', rng, 1, 2 * bw, 2 * bw, 1, 0, true);
    this.layer3_1x1 = this.conv('layer3_1x1', rng, 1, 4 * bw, 4 * bw, 1, 0, true);
    this.convUp2 = this.conv('conv_up2', rng, 3, 4 * bw + 2 * bw, 4 * bw, 1, 1, true);
    this.convUp1 = this.conv('conv_up1', rng, 3, 4 * bw + bw, 2 * bw, 1, 1, true);
    this.convUp0 = this.conv('conv_up0', rng, 3, 2 * bw + bw, bw, 1, 1, true);
    this.convOriginalSize2 = this.conv('conv_original_size2', rng, 3, bw + bw, bw, 1, 1, true);
    this.convLast = this.conv('conv_last', rng, 1, bw, this.classes, 1, 0, true);
  }

  /**
   * Predicted margins for every pixel, `[batch, height, width, classes]`.
   *
   * @param x - normalized images `[batch, height, width, channels]` (the classifier's input).
   * @param options - BatchNorm mode; a train-mode pass with `updateRunningStats` changes state.
   *   Differentiable with respect to the variables, not to `x` (no input gradient is computed).
   * @throws PatchcertError `SHAPE_MISMATCH` when `x` does not match `inputShape`.
   */
  forward(x: tf.Tensor4D, options: UNetForwardOptions = {}): tf.Tensor4D {
    return this.run(x, options, (h) => this.head(h));
  }

  /**
   * One train- or eval-mode pass that, instead of the full map, returns the predictions at
   * chosen pixels only, `[pixels.length, classes]`, differentiable with respect to the variables.
   * The full map is still computed (cropped to the feasible patch corners as
   * {@link predictMargins}) and handed to `choose`, which returns the pixels; the head (the last
   * 3×3 and 1×1 convolutions) is then recomputed at those pixels alone, so a loss on them back-
   * propagates through a few hundred rows per image rather than the whole map. Same values as
   * gathering the rows of {@link forward}'s output.
   *
   * @param choose - reads the cropped map `[batch, rows, cols, classes]` (disposed afterwards)
   *   and returns flat pixel indices n·H·W + r·W + c of the full image; or those indices, when
   *   they are known before the pass (the full map is then not computed).
   * @throws PatchcertError `INVALID_ARGUMENT` for a patch that does not fit or a pixel out of range.
   */
  forwardAt(
    x: tf.Tensor4D,
    patch: number | [number, number],
    options: UNetForwardOptions,
    choose: Int32Array | ((cropped: tf.Tensor4D) => Int32Array),
  ): tf.Tensor2D {
    const [ph, pw] = this.checkPatch(patch, 'forwardAt');
    return this.run(x, options, (h) => {
      const [b, height, width] = h.up.shape;
      let pixels: Int32Array;
      if (typeof choose === 'function') {
        const cropped = tf.tidy(() => tf.slice(this.head(h), [0, 0, 0, 0], [-1, height - ph + 1, width - pw + 1, -1]));
        try {
          pixels = choose(cropped as tf.Tensor4D);
        } finally {
          cropped.dispose();
        }
      } else {
        pixels = choose;
      }
      const limit = b * height * width;
      for (const p of pixels) {
        if (!(p >= 0 && p < limit)) {
          throw new PatchcertError('INVALID_ARGUMENT', `Error in ResNetUNet.forwardAt: chosen pixels must be flat indices in [0, ${limit}), but got ${p}.`);
        }
      }
      return this.headAt(h, pixels);
    });
  }

  /**
   * The encoder and decoder up to the head's two inputs, then `f` on them, in one tidy; the
   * BatchNorm running statistics move after it (every BN layer of the pass reads the old ones).
   */
  private run<T extends tf.Tensor>(x: tf.Tensor4D, options: UNetForwardOptions, f: (h: HeadInputs) => T): T {
    const [, h, w, c] = x.shape;
    if (h !== this.inputShape[0] || w !== this.inputShape[1] || c !== this.inputShape[2]) {
      throw new PatchcertError(
        'SHAPE_MISMATCH',
        `Error in ResNetUNet.forward: x must be [batch, ${this.inputShape.join(', ')}], but got [${x.shape.join(', ')}].`,
      );
    }
    const training = options.training ?? false;
    const update = training && (options.updateRunningStats ?? true);
    const pending: Array<[tf.Variable, tf.Tensor]> = [];
    // When f throws, the tidy frees the pending statistics and nothing is assigned.
    const out = tf.tidy(() => {
      const result = f(this.body(x, (p, t) => this.batchNorm(p, t, training, update ? pending : null)));
      for (const [, t] of pending) tf.keep(t);
      return result;
    });
    for (const [v, t] of pending) {
      v.assign(t);
      t.dispose();
    }
    return out;
  }

  /** Encoder and decoder: the upsampled decoder tensor and x_original, both `[B, H, W, bw]`. */
  private body(x: tf.Tensor4D, bn: (p: BatchNorm, t: tf.Tensor4D) => tf.Tensor4D): HeadInputs {
    // The first convolutions read the images: no gradient with respect to them is computed.
    const xOriginal = applyConv(this.convOriginalSize1, applyConv(this.convOriginalSize0, x, false, true), true, true);
    const l0 = tf.relu(bn(this.layer0.bn, applyConv(this.layer0.conv, x, false)));
    let l1: tf.Tensor4D = tf.maxPool(l0, [3, 3], [2, 2], 1);
    for (const b of this.layer1) l1 = this.basicBlock(b, l1, bn);
    let l2 = l1;
    for (const b of this.layer2) l2 = this.basicBlock(b, l2, bn);
    let l3 = l2;
    for (const b of this.layer3) l3 = this.basicBlock(b, l3, bn);

    const up = (t: tf.Tensor4D, like: tf.Tensor4D) => tf.image.resizeBilinear(t, [like.shape[1], like.shape[2]], true);
    const lat = (conv: Conv, t: tf.Tensor4D) => applyConv(conv, t, true, true);
    const s2 = lat(this.layer2_1x1, l2);
    let d = up(lat(this.layer3_1x1, l3), s2);
    d = tf.relu(applyConcatConv(this.convUp2, d, s2));
    const s1 = lat(this.layer1_1x1, l1);
    d = tf.relu(applyConcatConv(this.convUp1, up(d, s1), s1));
    const s0 = lat(this.layer0_1x1, l0);
    d = tf.relu(applyConcatConv(this.convUp0, up(d, s0), s0));
    return { up: up(d, xOriginal), skip: xOriginal };
  }

  /** conv_original_size2 + ReLU and conv_last over the whole image: `[B, H, W, classes]`. */
  private head(h: HeadInputs): tf.Tensor4D {
    return applyConv(this.convLast, tf.relu(applyConcatConv(this.convOriginalSize2, h.up, h.skip)));
  }

  /** {@link head} at the given flat pixels only: `[pixels, classes]`, rows as matMuls of gathered windows. */
  private headAt(h: HeadInputs, pixels: Int32Array): tf.Tensor2D {
    const c = this.convOriginalSize2;
    const [kh, kw, , cout] = c.kernel.shape as [number, number, number, number];
    const ca = h.up.shape[3];
    const cb = h.skip.shape[3];
    const part = (t: tf.Tensor4D, from: number, channels: number) =>
      tf.matMul(windowsAt(t, pixels, kh, kw, c.pad), tf.reshape(kernelChannels(c, from, channels), [kh * kw * channels, cout]) as tf.Tensor2D);
    const z = tf.relu(tf.add(tf.add(part(h.up, 0, ca), part(h.skip, ca, cb)), c.bias!));
    const last = this.convLast;
    return tf.add(tf.matMul(z, tf.reshape(last.kernel, [cout, this.classes]) as tf.Tensor2D), last.bias!) as tf.Tensor2D;
  }

  /**
   * Predicted margin lower bounds for the feasible patch corners: the forward output cropped to
   * `[batch, height − patchHeight + 1, width − patchWidth + 1, classes]` (reference L283-285).
   *
   * @throws PatchcertError `INVALID_ARGUMENT` when the patch does not fit the image.
   */
  predictMargins(x: tf.Tensor4D, patch: number | [number, number], options: UNetForwardOptions = {}): tf.Tensor4D {
    const [ph, pw] = this.checkPatch(patch, 'predictMargins');
    const [h, w] = this.inputShape;
    const full = this.forward(x, options);
    if (ph === 1 && pw === 1) return full;
    const cropped = tf.slice(full, [0, 0, 0, 0], [-1, h - ph + 1, w - pw + 1, -1]);
    full.dispose();
    return cropped;
  }

  private checkPatch(patch: number | [number, number], method: string): [number, number] {
    const [ph, pw] = typeof patch === 'number' ? [patch, patch] : patch;
    const [h, w] = this.inputShape;
    assert(
      Number.isInteger(ph) && Number.isInteger(pw) && ph >= 1 && pw >= 1 && ph <= h && pw <= w,
      () => `Error in ResNetUNet.${method}: patch must be positive integers no larger than ${h}×${w}, but got ${ph}×${pw}.`,
    );
    return [ph, pw];
  }

  /** The trainable variables (conv kernels and biases, BN scale and shift). */
  trainableVariables(): tf.Variable[] {
    return this.named.filter(([, v]) => v.trainable).map(([, v]) => v);
  }

  /** Number of trainable scalars: 39,040 for MNIST (bw 6), 108,540 for CIFAR (bw 10). */
  parameterCount(): number {
    return this.trainableVariables().reduce((s, v) => s + v.size, 0);
  }

  /** Every variable by a stable name, trainable ones and BN running statistics. */
  namedVariables(): ReadonlyArray<readonly [string, tf.Variable]> {
    return this.named;
  }

  /** Weights and running statistics, exact, for a JSON checkpoint. */
  getState(): Record<string, EncodedTensor> {
    const out: Record<string, EncodedTensor> = {};
    for (const [name, v] of this.named) out[name] = encodeTensor(v);
    return out;
  }

  /**
   * Restores {@link getState}'s output.
   * @throws PatchcertError `DATA_FORMAT` / `SHAPE_MISMATCH` when a tensor is missing or has another shape.
   */
  setState(state: Record<string, unknown>): void {
    const decoded = this.named.map(([name, v]) => [v, decodeTensor(state[name], v.shape, `state['${name}']`, 'ResNetUNet.setState')] as const);
    for (const [v, t] of decoded) {
      v.assign(t);
      t.dispose();
    }
  }

  /** Frees the variables. */
  dispose(): void {
    for (const [, v] of this.named) v.dispose();
  }

  private variable(name: string, value: tf.Tensor, trainable: boolean): tf.Variable {
    // tfjs names it uniquely; the stable names live in `named` (two copies of this module can coexist).
    const v = tf.variable(value, trainable);
    value.dispose();
    this.named.push([name, v]);
    return v;
  }

  /** PyTorch's default conv init: weight and bias uniform in ±1/√fan_in. */
  private conv(name: string, rng: Rng, k: number, cin: number, cout: number, stride: number, pad: number, bias: boolean): Conv {
    const bound = 1 / Math.sqrt(cin * k * k);
    const uniform = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-bound, bound));
    const kernel = this.variable(`${name}.weight`, tf.tensor4d(uniform(k * k * cin * cout), [k, k, cin, cout]), true);
    const b = bias ? this.variable(`${name}.bias`, tf.tensor1d(uniform(cout)), true) : null;
    return { kernel, bias: b, stride, pad };
  }

  private bn(name: string, c: number): BatchNorm {
    return {
      gamma: this.variable(`${name}.weight`, tf.ones([c]), true),
      beta: this.variable(`${name}.bias`, tf.zeros([c]), true),
      runningMean: this.variable(`${name}.running_mean`, tf.zeros([c]), false),
      runningVar: this.variable(`${name}.running_var`, tf.ones([c]), false),
    };
  }

  private block(name: string, rng: Rng, cin: number, cout: number, stride: number): BasicBlock {
    const conv1 = this.conv(`${name}.conv1`, rng, 3, cin, cout, stride, 1, false);
    const bn1 = this.bn(`${name}.bn1`, cout);
    const conv2 = this.conv(`${name}.conv2`, rng, 3, cout, cout, 1, 1, false);
    const bn2 = this.bn(`${name}.bn2`, cout);
    const downsample = stride !== 1 || cin !== cout
      ? { conv: this.conv(`${name}.downsample.0`, rng, 1, cin, cout, stride, 0, false), bn: this.bn(`${name}.downsample.1`, cout) }
      : null;
    return { conv1, bn1, conv2, bn2, downsample };
  }

  private basicBlock(b: BasicBlock, x: tf.Tensor4D, bn: (p: BatchNorm, t: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
    const h = tf.relu(bn(b.bn1, applyConv(b.conv1, x)));
    const y = bn(b.bn2, applyConv(b.conv2, h));
    const shortcut = b.downsample ? bn(b.downsample.bn, applyConv(b.downsample.conv, x)) : x;
    return tf.relu(tf.add(y, shortcut) as tf.Tensor4D);
  }

  private batchNorm(p: BatchNorm, x: tf.Tensor4D, training: boolean, pending: Array<[tf.Variable, tf.Tensor]> | null): tf.Tensor4D {
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (training) {
      let n: number;
      ({ mean, variance, count: n } = channelMoments(x, this.group));
      if (pending) {
        const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
        pending.push([p.runningMean, tf.add(tf.mul(p.runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM))]);
        pending.push([p.runningVar, tf.add(tf.mul(p.runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM))]);
      }
    } else {
      mean = p.runningMean;
      variance = p.runningVar;
    }
    return batchNormalize(x, p.gamma as tf.Tensor1D, p.beta as tf.Tensor1D, mean as tf.Tensor1D, variance as tf.Tensor1D, BN_EPS, training, training ? this.group : undefined);
  }
}

/**
 * conv(concat([a, b], channels), K) computed as conv(a, K[:, :, :ca]) + conv(b, K[:, :, ca:]):
 * the same function and weight layout (upsampled channels first, then the skip), without the
 * channel Concat and its SplitV gradient, which are slow NHWC copies on wasm.
 */
function applyConcatConv(c: Conv, a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const ca = a.shape[3];
  const ka = kernelChannels(c, 0, ca);
  const kb = kernelChannels(c, ca, b.shape[3]);
  return tf.add(conv2dBias(a, ka, c.bias as tf.Tensor1D | null, c.stride, c.pad), conv2dBias(b, kb, null, c.stride, c.pad));
}

/** The input channels from … from + count − 1 of c's kernel: `[kh, kw, count, cout]`. */
function kernelChannels(c: Conv, from: number, count: number): tf.Tensor4D {
  const [kh, kw, , cout] = c.kernel.shape as [number, number, number, number];
  return tf.slice(c.kernel as tf.Tensor4D, [0, 0, from, 0], [kh, kw, count, cout]);
}

/** c(x), then ReLU when `relu` (fused into the convolution). */
function applyConv(c: Conv, x: tf.Tensor4D, inputGrad = true, relu = false): tf.Tensor4D {
  return conv2dBias(x, c.kernel as tf.Tensor4D, c.bias as tf.Tensor1D | null, c.stride, c.pad, inputGrad, relu);
}
