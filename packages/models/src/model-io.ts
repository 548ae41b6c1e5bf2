import { PatchcertError, tf, identityNormalization, type Normalization } from '@patchcert/backend';
import { layerOutputShape, type LayerSpec } from './layer-spec.js';
import { SequentialModel, type ModelMetadata, type TrainingRecord } from './sequential-model.js';
import { FileSystemHandler, MODEL_JSON, WEIGHTS_BIN, toLocalPath } from './file-system-io.js';
import { parseKerasTopology, toKerasTopology } from './internal/keras-topology.js';

/**
 * What `userDefinedMetadata.patchcert` of a saved model.json holds: the {@link ModelMetadata}
 * plus the patchcert layer list, so a load reproduces the model exactly.
 */
export interface SavedModelMetadata extends ModelMetadata {
  /** Version of this record's layout. */
  formatVersion: 1;
  layers: LayerSpec[];
}

/** What {@link saveModel} wrote. */
export interface SavedModelInfo {
  /** Absolute path of model.json. */
  modelJson: string;
  /** Absolute path of weights.bin. */
  weights: string;
  /** Size of weights.bin in bytes. */
  weightBytes: number;
}

/** Options of {@link modelFromArtifacts}. */
export interface FromArtifactsOptions {
  /**
   * Public function named in error messages.
   * @defaultValue 'modelFromArtifacts'
   */
  fn?: string;
  /**
   * Where the artifacts came from, named in error messages.
   * @defaultValue 'model artifacts'
   */
  source?: string;
}

/**
 * Serializes a model as tfjs `layers-model` artifacts: a Keras Sequential topology
 * (ZeroPadding2D + valid Conv2D, Activation relu, Flatten, Dense), float32 weight specs named
 * `<layer>/kernel` and `<layer>/bias`, and the metadata in `userDefinedMetadata.patchcert`.
 *
 * @param model - the model to serialize.
 * @returns artifacts for any tfjs IO handler (`tf.io.fromMemory`, {@link FileSystemHandler}).
 */
export function modelToArtifacts(model: SequentialModel): tf.io.ModelArtifacts {
  const { topology, weightNames } = toKerasTopology(model.layers, model.metadata.inputShape);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const arrays: Float32Array[] = [];
  for (const names of weightNames) {
    const w = model.weights[names.layer];
    if (!w) throw new PatchcertError('INTERNAL', `Error in modelToArtifacts: layer ${names.layer} must have weights, but has none.`);
    for (const [name, v] of [[names.kernel, w.kernel], [names.bias!, w.bias]] as const) {
      weightSpecs.push({ name, shape: [...v.shape], dtype: 'float32' });
      arrays.push(v.dataSync() as Float32Array);
    }
  }
  const total = arrays.reduce((s, a) => s + a.length, 0);
  const data = new Float32Array(total);
  let off = 0;
  for (const a of arrays) {
    data.set(a, off);
    off += a.length;
  }
  const m = model.metadata;
  const patchcert: SavedModelMetadata = {
    formatVersion: 1,
    dataset: m.dataset,
    inputShape: [...m.inputShape],
    classNames: [...m.classNames],
    normalization: { mean: [...m.normalization.mean], std: [...m.normalization.std] },
    architecture: m.architecture,
    ...(m.training !== undefined ? { training: structuredClone(m.training) } : {}),
    layers: model.layers.map((l) => structuredClone(l)),
  };
  return {
    format: 'layers-model',
    generatedBy: `patchcert @patchcert/models (TensorFlow.js tfjs-layers v${tf.version_layers})`,
    convertedBy: null,
    modelTopology: topology,
    weightSpecs,
    weightData: data.buffer,
    userDefinedMetadata: { patchcert: patchcert as unknown as {} },
  };
}

/**
 * Builds a {@link SequentialModel} from `layers-model` artifacts: the topology gives the layers
 * (a plain Keras Sequential of InputLayer, ZeroPadding2D, Conv2D, Dense, Activation/ReLU,
 * Flatten works too), `userDefinedMetadata.patchcert` the metadata (defaults when absent).
 *
 * @param artifacts - topology, weight specs and data.
 * @param options - names for error messages.
 * @returns a new model (the caller disposes it).
 * @throws PatchcertError `MODEL_FORMAT` for an unsupported topology, missing or misshapen
 *   weights, non-float32 weights, NaN/Inf values, or metadata that contradicts the topology.
 */
export function modelFromArtifacts(artifacts: tf.io.ModelArtifacts, options: FromArtifactsOptions = {}): SequentialModel {
  const fn = options.fn ?? 'modelFromArtifacts';
  const source = options.source ?? 'model artifacts';
  const fail = (what: string, actual: string): never => {
    throw new PatchcertError('MODEL_FORMAT', `Error in ${fn}: ${source}: ${what}, but got ${actual}.`);
  };
  const parsed = parseKerasTopology(artifacts.modelTopology, fn, source);
  const metadata = readMetadata(artifacts.userDefinedMetadata?.['patchcert'], parsed.inputShape, parsed.layers, fail);

  // Byte offset of every weight in the concatenated data, in manifest order.
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
  const index = new Map<string, { spec: tf.io.WeightsManifestEntry; offset: number }>();
  let offset = 0;
  for (const spec of specs) {
    index.set(spec.name, { spec, offset });
    const per = spec.quantization ? ({ uint8: 1, uint16: 2, float16: 2 } as Record<string, number>)[spec.quantization.dtype] : spec.dtype === 'bool' ? 1 : 4;
    offset += spec.shape.reduce((a, b) => a * b, 1) * (per ?? 4);
  }
  if (offset > data.byteLength) fail(`the weight data must hold ${offset} bytes for ${specs.length} weights`, `${data.byteLength} bytes`);

  const read = (name: string, shape: number[]): tf.Tensor => {
    const entry = index.get(name);
    if (!entry) fail(`the weights manifest must contain '${name}'`, `only ${JSON.stringify(specs.map((s) => s.name)).slice(0, 200)}`);
    const { spec, offset: at } = entry!;
    if (spec.dtype !== 'float32' || spec.quantization) {
      fail(`weight '${name}' must be float32 without quantization`, `dtype ${spec.dtype}${spec.quantization ? ` quantized to ${spec.quantization.dtype}` : ''}`);
    }
    if (spec.shape.length !== shape.length || !spec.shape.every((d, i) => d === shape[i])) {
      fail(`weight '${name}' must have shape [${shape}] for this topology`, `[${spec.shape}]`);
    }
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(data.slice(at, at + 4 * n));
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(values[i]!)) fail(`weight '${name}' must hold finite values`, `${values[i]} at flat index ${i}`);
    }
    return tf.tensor(values, shape, 'float32');
  };

  const weights: { kernel: tf.Tensor; bias: tf.Tensor }[] = [];
  try {
    let shape: number[] = [...parsed.inputShape];
    const inputs: number[][] = [];
    for (const layer of parsed.layers) {
      inputs.push(shape);
      shape = layerOutputShape(layer, shape);
    }
    for (const names of parsed.weightNames) {
      const layer = parsed.layers[names.layer]!;
      const inShape = inputs[names.layer]!;
      const kshape = layer.type === 'dense' ? [inShape[0]!, layer.units] : layer.type === 'conv2d' ? [layer.kernelSize[0], layer.kernelSize[1], inShape[2]!, layer.filters] : [];
      const units = kshape[kshape.length - 1]!;
      const kernel = read(names.kernel, kshape);
      let bias: tf.Tensor;
      try {
        bias = names.bias === null ? tf.zeros([units]) : read(names.bias, [units]);
      } catch (err) {
        kernel.dispose();
        throw err;
      }
      weights.push({ kernel, bias });
    }
    return new SequentialModel(parsed.layers, weights, metadata);
  } finally {
    for (const w of weights) tf.dispose([w.kernel, w.bias]);
  }
}

function readMetadata(
  raw: unknown,
  inputShape: [number, number, number],
  layers: readonly LayerSpec[],
  fail: (what: string, actual: string) => never,
): ModelMetadata {
  let shape: number[] = [...inputShape];
  for (const l of layers) shape = layerOutputShape(l, shape);
  const numClasses = shape[0]!;
  if (raw === undefined || raw === null) {
    return {
      dataset: 'custom',
      inputShape,
      classNames: Array.from({ length: numClasses }, (_, i) => String(i)),
      normalization: identityNormalization(inputShape[2]),
      architecture: 'custom',
    };
  }
  if (typeof raw !== 'object') fail('userDefinedMetadata.patchcert must be an object', typeof raw);
  const m = raw as Partial<SavedModelMetadata>;
  const where = 'userDefinedMetadata.patchcert';
  if (m.formatVersion !== 1) fail(`${where}.formatVersion must be 1`, JSON.stringify(m.formatVersion));
  if (typeof m.dataset !== 'string') fail(`${where}.dataset must be a string`, JSON.stringify(m.dataset));
  if (typeof m.architecture !== 'string') fail(`${where}.architecture must be a string`, JSON.stringify(m.architecture));
  if (!Array.isArray(m.inputShape) || m.inputShape.length !== 3 || !m.inputShape.every((d, i) => d === inputShape[i])) {
    fail(`${where}.inputShape must equal the topology's input shape [${inputShape}]`, JSON.stringify(m.inputShape));
  }
  if (!Array.isArray(m.classNames) || m.classNames.length !== numClasses || !m.classNames.every((c) => typeof c === 'string')) {
    fail(`${where}.classNames must be ${numClasses} strings (one per logit)`, JSON.stringify(m.classNames)?.slice(0, 200));
  }
  const norm = m.normalization as Normalization | undefined;
  const okArr = (a: unknown): boolean => Array.isArray(a) && (a.length === 1 || a.length === inputShape[2]) && a.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (!norm || !okArr(norm.mean) || !okArr(norm.std) || !norm.std.every((s) => s > 0)) {
    fail(`${where}.normalization must have mean and std of length 1 or ${inputShape[2]} (std > 0)`, JSON.stringify(norm));
  }
  if (m.training !== undefined && (m.training === null || typeof m.training !== 'object')) {
    fail(`${where}.training must be an object`, JSON.stringify(m.training));
  }
  if (m.layers !== undefined && canonicalLayers(m.layers as LayerSpec[]) !== canonicalLayers(layers)) {
    fail(`${where}.layers must describe the same layers as modelTopology (${canonicalLayers(layers)})`, canonicalLayers(m.layers as LayerSpec[]));
  }
  return {
    dataset: m.dataset!,
    inputShape,
    classNames: [...m.classNames!],
    normalization: { mean: [...norm!.mean], std: [...norm!.std] },
    architecture: m.architecture!,
    ...(m.training !== undefined ? { training: m.training as TrainingRecord } : {}),
  };
}

function canonicalLayers(layers: readonly LayerSpec[]): string {
  if (!Array.isArray(layers)) return JSON.stringify(layers);
  return layers
    .map((l) => {
      switch (l?.type) {
        case 'dense':
          return `dense(${l.units})`;
        case 'conv2d':
          return `conv2d(${l.filters},k${l.kernelSize},s${l.strides},p${l.padding})`;
        case 'relu':
        case 'flatten':
          return l.type;
        default:
          return JSON.stringify(l);
      }
    })
    .join(' ');
}

/**
 * Saves a model as a tfjs `layers-model` directory: `model.json` (topology, weights manifest,
 * metadata in `userDefinedMetadata.patchcert`) and `weights.bin`, each written atomically.
 * `tf.loadLayersModel('file://<dir>/model.json')` loads it as a LayersModel with the same logits.
 *
 * @param model - the model to save.
 * @param dir - the directory (created if missing) or a `file://` URL.
 * @returns the paths written.
 * @throws PatchcertError `INVALID_ARGUMENT` for a bad argument, `INTERNAL` when writing fails.
 * @example
 * await saveModel(model, 'runs/mnist-mlp');
 * const again = await loadModel('runs/mnist-mlp');
 */
export async function saveModel(model: SequentialModel, dir: string): Promise<SavedModelInfo> {
  if (!(model instanceof SequentialModel)) {
    throw new PatchcertError('INVALID_ARGUMENT', `Error in saveModel: model must be a SequentialModel, but got ${describeValue(model)}.`);
  }
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new PatchcertError('INVALID_ARGUMENT', `Error in saveModel: dir must be a non-empty path, but got ${describeValue(dir)}.`);
  }
  const handler = new FileSystemHandler(toLocalPath(dir), 'saveModel');
  const artifacts = modelToArtifacts(model);
  await handler.save(artifacts);
  return {
    modelJson: handler.modelJsonPath,
    weights: `${handler.dir}/${basenameOfWeights(handler.modelJsonPath)}`,
    weightBytes: (artifacts.weightData as ArrayBuffer).byteLength,
  };
}

function basenameOfWeights(modelJson: string): string {
  return modelJson.endsWith(`/${MODEL_JSON}`) ? WEIGHTS_BIN : `${modelJson.slice(modelJson.lastIndexOf('/') + 1, -'.json'.length)}.weights.bin`;
}

/**
 * Loads a model saved by {@link saveModel} (or any tfjs `layers-model` Sequential of dense,
 * conv2d, relu, flatten and zero-padding layers with float32 weights).
 *
 * @param dir - the model directory, its model.json, or a `file://` URL.
 * @returns a new model (the caller disposes it).
 * @throws PatchcertError `FILE_NOT_FOUND` when model.json or weights.bin is missing;
 *   `MODEL_FORMAT` (naming the file) for invalid JSON, a weights file of the wrong size, unknown
 *   layer types, misshapen or non-finite weights, or inconsistent metadata.
 */
export async function loadModel(dir: string): Promise<SequentialModel> {
  if (typeof dir !== 'string' || dir.length === 0) {
    throw new PatchcertError('INVALID_ARGUMENT', `Error in loadModel: dir must be a non-empty path, but got ${describeValue(dir)}.`);
  }
  const handler = new FileSystemHandler(toLocalPath(dir), 'loadModel');
  const artifacts = await handler.load();
  return modelFromArtifacts(artifacts, { fn: 'loadModel', source: handler.modelJsonPath });
}

function describeValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'object') return v.constructor?.name ?? 'object';
  return `${typeof v} ${JSON.stringify(v)}`;
}
