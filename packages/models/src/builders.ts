import { tf, PatchcertError, Rng, identityNormalization, type Normalization } from '@patchcert/backend';
import { layerOutputShape, type LayerSpec } from './layer-spec.js';
import { SequentialModel, type ModelMetadata } from './sequential-model.js';

/**
 * The architectures of the paper (reference-spec §1), by the names configs use.
 *
 * - `mlp`: flatten, one hidden dense layer of 255 (or `hidden`), output layer.
 * - `cnn-2layer`: two k4/s2/p1 convs (4, 8 channels), FC 256.
 * - `cnn-4layer`: convs k(3,4,3,4) s(1,2,1,2) p1 with (4,4,8,8) channels, FC 256, 256. With its
 *   3×3 first kernel it is also the paper's "Conv3x3" sparse model (alias `cnn-4layer-conv3`).
 * - `cnn-5layer-wide`: convs 64-64-128-128-128 (k3, p1, the third with stride 2), FC 512.
 * - `cnn-4layer-conv11`, `cnn-4layer-conv13`: the 4-layer CNN with an 11×11 (p5) or 13×13 (p6)
 *   first conv, for sparse attacks.
 */
export const ARCHITECTURES = [
  'mlp',
  'cnn-2layer',
  'cnn-4layer',
  'cnn-5layer-wide',
  'cnn-4layer-conv11',
  'cnn-4layer-conv13',
] as const;

/** One of {@link ARCHITECTURES}. */
export type ArchitectureName = (typeof ARCHITECTURES)[number];

/** Other names accepted by {@link buildModel}, mapped to the architecture they denote. */
const ALIASES: Readonly<Record<string, ArchitectureName>> = {
  'cnn-4layer-conv3': 'cnn-4layer',
};

/** Options of {@link buildModel}. */
export interface BuildModelOptions {
  /** `[height, width, channels]` of the input images (MNIST `[28, 28, 1]`, CIFAR `[32, 32, 3]`). */
  inputShape: readonly [number, number, number] | readonly number[];
  /**
   * Class names, one per logit.
   * @defaultValue `['0', …, String(numClasses - 1)]`
   */
  classNames?: readonly string[];
  /**
   * Number of classes when `classNames` is not given.
   * @defaultValue 10
   */
  numClasses?: number;
  /**
   * Dataset name recorded in the metadata (`mnist`, `cifar10`, `folder:…`).
   * @defaultValue 'custom'
   */
  dataset?: string;
  /**
   * Normalization recorded in the metadata and applied by `predict`.
   * @defaultValue identity for the input's channel count
   */
  normalization?: Normalization;
  /**
   * Widths of the hidden dense layers: for `mlp` the hidden layers (any number), for the CNNs the
   * fully connected layers after the flatten.
   * @defaultValue `[255]` (mlp), `[256]` (cnn-2layer), `[256, 256]` (cnn-4layer and its
   * conv11/conv13 variants), `[512]` (cnn-5layer-wide)
   */
  hidden?: readonly number[];
  /**
   * Seed of the initialization: the same seed gives the same weights.
   * @defaultValue 0
   */
  seed?: number;
  /** A generator to draw the initialization from instead of `seed` (advanced by the draw). */
  rng?: Rng;
}

const DEFAULT_HIDDEN: Readonly<Record<ArchitectureName, readonly number[]>> = {
  mlp: [255],
  'cnn-2layer': [256],
  'cnn-4layer': [256, 256],
  'cnn-5layer-wide': [512],
  'cnn-4layer-conv11': [256, 256],
  'cnn-4layer-conv13': [256, 256],
};

/** Resolves an architecture name or alias; throws `INVALID_OPTION` for an unknown one. */
export function toArchitectureName(arch: string): ArchitectureName {
  if ((ARCHITECTURES as readonly string[]).includes(arch)) return arch as ArchitectureName;
  const alias = ALIASES[arch];
  if (alias) return alias;
  throw new PatchcertError(
    'INVALID_OPTION',
    `Error in buildModel: arch must be one of ${ARCHITECTURES.join(', ')} (or ${Object.keys(ALIASES).join(', ')}), but got '${arch}'.`,
  );
}

function conv(filters: number, k: number, s: number, p: number): LayerSpec {
  return { type: 'conv2d', filters, kernelSize: [k, k], strides: [s, s], padding: [p, p, p, p] };
}

const RELU: LayerSpec = { type: 'relu' };

/** Dense head: flatten, hidden dense + relu pairs, then the logits layer. */
function head(hidden: readonly number[], numClasses: number): LayerSpec[] {
  return [
    { type: 'flatten' },
    ...hidden.flatMap((units): LayerSpec[] => [{ type: 'dense', units }, RELU]),
    { type: 'dense', units: numClasses },
  ];
}

function fourLayer(firstKernel: number, hidden: readonly number[], numClasses: number): LayerSpec[] {
  return [
    conv(4, firstKernel, 1, (firstKernel - 1) / 2),
    RELU,
    conv(4, 4, 2, 1),
    RELU,
    conv(8, 3, 1, 1),
    RELU,
    conv(8, 4, 2, 1),
    RELU,
    ...head(hidden, numClasses),
  ];
}

/**
 * The layer list of an architecture, without weights (reference-spec §1; PyTorch `padding=p`
 * becomes `[p, p, p, p]`).
 *
 * @param arch - a name from {@link ARCHITECTURES} (or an alias).
 * @param numClasses - logits of the last layer.
 * @param hidden - dense widths; see {@link BuildModelOptions.hidden}.
 * @returns a fresh layer list.
 */
export function architectureLayers(arch: string, numClasses: number, hidden?: readonly number[]): LayerSpec[] {
  const name = toArchitectureName(arch);
  const h = hidden ?? DEFAULT_HIDDEN[name];
  switch (name) {
    case 'mlp':
      return head(h, numClasses);
    case 'cnn-2layer':
      return [conv(4, 4, 2, 1), RELU, conv(8, 4, 2, 1), RELU, ...head(h, numClasses)];
    case 'cnn-4layer':
      return fourLayer(3, h, numClasses);
    case 'cnn-4layer-conv11':
      return fourLayer(11, h, numClasses);
    case 'cnn-4layer-conv13':
      return fourLayer(13, h, numClasses);
    case 'cnn-5layer-wide':
      return [
        conv(64, 3, 1, 1),
        RELU,
        conv(64, 3, 1, 1),
        RELU,
        conv(128, 3, 2, 1),
        RELU,
        conv(128, 3, 1, 1),
        RELU,
        conv(128, 3, 1, 1),
        RELU,
        ...head(h, numClasses),
      ];
  }
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/**
 * Draws PyTorch-default weights for a layer list: every kernel and bias entry uniform in
 * (−1/√fan_in, +1/√fan_in), fan_in = inChannels·kh·kw (conv) or in features (dense). Layer by
 * layer, kernel then bias, entries in the patchcert layout's row-major order.
 *
 * @param layers - the layer list.
 * @param inputShape - `[height, width, channels]`.
 * @param rng - the generator to draw from.
 * @returns kernel and bias tensors for each dense/conv2d layer (caller disposes).
 */
export function initializeWeights(
  layers: readonly LayerSpec[],
  inputShape: readonly number[],
  rng: Rng,
): { kernel: tf.Tensor; bias: tf.Tensor }[] {
  const out: { kernel: tf.Tensor; bias: tf.Tensor }[] = [];
  let shape: number[] = [...inputShape];
  for (const layer of layers) {
    if (layer.type === 'dense' || layer.type === 'conv2d') {
      const kshape =
        layer.type === 'dense'
          ? [shape[0]!, layer.units]
          : [layer.kernelSize[0], layer.kernelSize[1], shape[2]!, layer.filters];
      const units = kshape[kshape.length - 1]!;
      const fanIn = kshape.slice(0, -1).reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      out.push({ kernel: tf.tensor(uniform(rng, fanIn * units, bound), kshape), bias: tf.tensor1d(uniform(rng, units, bound)) });
    }
    shape = layerOutputShape(layer, shape);
  }
  return out;
}

function uniform(rng: Rng, n: number, bound: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.next() - 1) * bound;
  return a;
}

/**
 * Builds one of the paper's architectures for any input shape and class count, with PyTorch's
 * default initialization drawn from the seeded {@link Rng}.
 *
 * @param arch - a name from {@link ARCHITECTURES} (or the alias `cnn-4layer-conv3`).
 * @param options - input shape, classes, dataset, normalization, hidden widths, seed.
 * @returns a new model (the caller disposes it).
 * @throws PatchcertError `INVALID_OPTION` for an unknown architecture or malformed options,
 *   `SHAPE_MISMATCH` when the input is too small for the architecture's convolutions.
 * @example
 * const model = buildModel('cnn-4layer', { inputShape: [28, 28, 1], numClasses: 10, dataset: 'mnist', seed: 1 });
 * model.parameterCount(); // 170598
 */
export function buildModel(arch: string, options: BuildModelOptions): SequentialModel {
  const name = toArchitectureName(arch);
  const opts = options ?? ({} as BuildModelOptions);
  const inputShape = opts.inputShape;
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every(isPositiveInt)) {
    throw new PatchcertError(
      'INVALID_OPTION',
      `Error in buildModel: inputShape must be [height, width, channels] of positive integers, but got ${JSON.stringify(inputShape)}.`,
    );
  }
  const shape3 = [inputShape[0]!, inputShape[1]!, inputShape[2]!] as [number, number, number];
  const classNames = resolveClassNames(opts);
  const hidden = opts.hidden;
  if (hidden !== undefined && (!Array.isArray(hidden) || !hidden.every(isPositiveInt))) {
    throw new PatchcertError('INVALID_OPTION', `Error in buildModel: hidden must be an array of positive integers, but got ${JSON.stringify(hidden)}.`);
  }
  const channels = shape3[2];
  const normalization = opts.normalization ?? identityNormalization(channels);
  checkNormalization(normalization, channels);
  if (opts.seed !== undefined && !Number.isFinite(opts.seed)) {
    throw new PatchcertError('INVALID_OPTION', `Error in buildModel: seed must be a finite number, but got ${opts.seed}.`);
  }
  const layers = architectureLayers(name, classNames.length, hidden);
  let s: number[] = [...shape3];
  layers.forEach((layer, i) => {
    s = layerOutputShape(layer, s);
    if (!s.every((d) => d >= 1)) {
      throw new PatchcertError(
        'SHAPE_MISMATCH',
        `Error in buildModel: input [${shape3}] must be large enough for ${name}, but layer ${i} (${layer.type}) would output [${s}].`,
      );
    }
  });
  const metadata: ModelMetadata = {
    dataset: opts.dataset ?? 'custom',
    inputShape: shape3,
    classNames,
    normalization: { mean: [...normalization.mean], std: [...normalization.std] },
    architecture: name,
  };
  const rng = opts.rng ?? new Rng(opts.seed ?? 0);
  const weights = initializeWeights(layers, shape3, rng);
  try {
    return new SequentialModel(layers, weights, metadata);
  } finally {
    for (const w of weights) {
      w.kernel.dispose();
      w.bias.dispose();
    }
  }
}

function resolveClassNames(opts: BuildModelOptions): string[] {
  const { classNames, numClasses } = opts;
  if (numClasses !== undefined && !(isPositiveInt(numClasses) && numClasses >= 2)) {
    throw new PatchcertError('INVALID_OPTION', `Error in buildModel: numClasses must be an integer >= 2, but got ${numClasses}.`);
  }
  if (classNames !== undefined) {
    if (!Array.isArray(classNames) || classNames.length < 2 || !classNames.every((c) => typeof c === 'string')) {
      throw new PatchcertError('INVALID_OPTION', `Error in buildModel: classNames must be an array of at least 2 strings, but got ${JSON.stringify(classNames)}.`);
    }
    if (numClasses !== undefined && numClasses !== classNames.length) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in buildModel: numClasses must equal classNames.length (${classNames.length}), but got ${numClasses}.`,
      );
    }
    return [...classNames];
  }
  return Array.from({ length: numClasses ?? 10 }, (_, i) => String(i));
}

function checkNormalization(n: Normalization, channels: number): void {
  const ok = (a: unknown): a is number[] =>
    Array.isArray(a) && (a.length === 1 || a.length === channels) && a.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!n || !ok(n.mean) || !ok(n.std) || !n.std.every((v) => v > 0)) {
    throw new PatchcertError(
      'INVALID_OPTION',
      `Error in buildModel: normalization must have mean and std of length 1 or ${channels} (std > 0), but got ${JSON.stringify(n)}.`,
    );
  }
}
