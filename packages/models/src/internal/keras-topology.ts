import { PatchcertError, tf } from '@patchcert/backend';
import { layerOutputShape, type LayerSpec } from '../layer-spec.js';

/**
 * Conversion between patchcert layer lists and the Keras-style `Sequential` topology of a tfjs
 * `layers-model` model.json. Written so that `tf.loadLayersModel` builds the same function:
 * explicit conv padding becomes a `ZeroPadding2D` before a `'valid'` `Conv2D`, relu an
 * `Activation` layer.
 */

/** Keras layer config as stored in model.json (snake_case keys). */
export interface KerasLayerJSON {
  class_name: string;
  config: Record<string, unknown>;
}

/** Names of the weights of one affine layer in the weights manifest. */
export interface AffineWeightNames {
  /** Index into the patchcert layer list. */
  layer: number;
  kernel: string;
  /** null when the Keras layer has `use_bias: false` (the bias is then zero). */
  bias: string | null;
}

/** Result of {@link toKerasTopology}. */
export interface KerasTopology {
  topology: { class_name: 'Sequential'; config: { name: string; layers: KerasLayerJSON[] }; keras_version: string; backend: string };
  weightNames: AffineWeightNames[];
}

/** Result of {@link parseKerasTopology}. */
export interface ParsedTopology {
  inputShape: [number, number, number];
  layers: LayerSpec[];
  weightNames: AffineWeightNames[];
}

/**
 * Writes a layer list as a Keras Sequential config.
 *
 * @param layers - the patchcert layers.
 * @param inputShape - `[height, width, channels]`.
 */
export function toKerasTopology(layers: readonly LayerSpec[], inputShape: readonly number[]): KerasTopology {
  const counters = new Map<string, number>();
  const nameFor = (base: string): string => {
    const n = (counters.get(base) ?? 0) + 1;
    counters.set(base, n);
    return `${base}_${n}`;
  };
  const out: KerasLayerJSON[] = [
    { class_name: 'InputLayer', config: { batch_input_shape: [null, ...inputShape], dtype: 'float32', sparse: false, name: 'input_1' } },
  ];
  const weightNames: AffineWeightNames[] = [];
  layers.forEach((layer, i) => {
    switch (layer.type) {
      case 'conv2d': {
        const [pt, pb, pl, pr] = layer.padding;
        if (pt || pb || pl || pr) {
          out.push({
            class_name: 'ZeroPadding2D',
            config: { padding: [[pt, pb], [pl, pr]], data_format: 'channels_last', name: nameFor('zero_padding2d'), trainable: true },
          });
        }
        const name = nameFor('conv2d');
        out.push({
          class_name: 'Conv2D',
          config: {
            filters: layer.filters,
            kernel_size: [...layer.kernelSize],
            strides: [...layer.strides],
            padding: 'valid',
            data_format: 'channels_last',
            dilation_rate: [1, 1],
            activation: 'linear',
            use_bias: true,
            kernel_initializer: PYTORCH_KERNEL_INIT,
            bias_initializer: { class_name: 'Zeros', config: {} },
            name,
            trainable: true,
          },
        });
        weightNames.push({ layer: i, kernel: `${name}/kernel`, bias: `${name}/bias` });
        break;
      }
      case 'dense': {
        const name = nameFor('dense');
        out.push({
          class_name: 'Dense',
          config: {
            units: layer.units,
            activation: 'linear',
            use_bias: true,
            kernel_initializer: PYTORCH_KERNEL_INIT,
            bias_initializer: { class_name: 'Zeros', config: {} },
            name,
            trainable: true,
          },
        });
        weightNames.push({ layer: i, kernel: `${name}/kernel`, bias: `${name}/bias` });
        break;
      }
      case 'relu':
        out.push({ class_name: 'Activation', config: { activation: 'relu', name: nameFor('activation'), trainable: true } });
        break;
      case 'flatten':
        out.push({ class_name: 'Flatten', config: { name: nameFor('flatten'), trainable: true } });
        break;
    }
  });
  return {
    topology: {
      class_name: 'Sequential',
      config: { name: 'patchcert_sequential', layers: out },
      keras_version: `tfjs-layers ${tf.version_layers}`,
      backend: 'tensor_flow.js',
    },
    weightNames,
  };
}

/** PyTorch's default kernel init, U(±1/√fan_in), in Keras terms (variance b²/3 = 1/(3·fan_in)). */
const PYTORCH_KERNEL_INIT = {
  class_name: 'VarianceScaling',
  config: { scale: 1 / 3, mode: 'fan_in', distribution: 'uniform', seed: null },
};

/** Keras layers that are the identity at inference and are skipped on load. */
const IDENTITY_LAYERS = new Set(['Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

/** The Keras layer classes {@link parseKerasTopology} understands. */
export const SUPPORTED_KERAS_LAYERS = ['InputLayer', 'ZeroPadding2D', 'Conv2D', 'Dense', 'Activation', 'ReLU', 'Flatten', ...IDENTITY_LAYERS];

/**
 * Reads a Keras Sequential topology (as written by tfjs or the Keras converter) into a patchcert
 * layer list.
 *
 * @param topology - `modelTopology` of model.json.
 * @param fn - the public function name for error messages.
 * @param file - the model.json path for error messages.
 * @throws PatchcertError `MODEL_FORMAT` for anything that is not a Sequential of the supported
 *   layers over `[height, width, channels]` input.
 */
export function parseKerasTopology(topology: unknown, fn: string, file: string): ParsedTopology {
  const fail = (what: string, actual: string): never => {
    throw new PatchcertError('MODEL_FORMAT', `Error in ${fn}: ${file}: ${what}, but got ${actual}.`);
  };
  let top = topology as Record<string, unknown> | null;
  if (top && typeof top === 'object' && 'model_config' in top) top = top['model_config'] as Record<string, unknown>;
  if (!top || typeof top !== 'object') fail('modelTopology must be a Keras model config object', describe(topology));
  const cls = top!['class_name'];
  if (cls !== 'Sequential') fail(`modelTopology.class_name must be 'Sequential' (patchcert loads sequential models only)`, describe(cls));
  const config = top!['config'];
  const rawLayers = Array.isArray(config) ? config : (config as Record<string, unknown> | undefined)?.['layers'];
  if (!Array.isArray(rawLayers) || rawLayers.length === 0) fail('modelTopology.config.layers must be a non-empty array', describe(rawLayers));

  let inputShape: [number, number, number] | undefined;
  let shape: number[] | undefined;
  const layers: LayerSpec[] = [];
  const weightNames: AffineWeightNames[] = [];
  let pendingPad: [number, number, number, number] | null = null;

  const push = (layer: LayerSpec, where: string): void => {
    const next = layerOutputShape(layer, shape!);
    if (!next.every((d) => Number.isInteger(d) && d >= 1)) fail(`${where} must produce a non-empty output`, `shape [${next}] from input [${shape}]`);
    layers.push(layer);
    shape = next;
  };

  (rawLayers as unknown[]).forEach((raw, idx) => {
    const entry = raw as KerasLayerJSON;
    const c = (entry?.config ?? {}) as Record<string, unknown>;
    const klass = entry?.class_name;
    const where = `layer ${idx} (${String(klass)} '${String(c['name'] ?? '')}')`;
    const batchShape = c['batch_input_shape'] ?? c['batch_shape'];
    if (batchShape !== undefined && batchShape !== null && shape === undefined) {
      const dims = (batchShape as unknown[]).slice(1);
      if (!Array.isArray(batchShape) || dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && (d as number) >= 1)) {
        fail(`${where} batch_input_shape must be [null, height, width, channels]`, describe(batchShape));
      }
      inputShape = dims as [number, number, number];
      shape = [...inputShape];
    }
    if (klass === 'InputLayer') return;
    if (shape === undefined) fail(`${where} must be an InputLayer or carry batch_input_shape (the first layer fixes the input shape)`, 'none');
    const channelsLast = (): void => {
      const df = c['data_format'];
      if (df !== undefined && df !== null && df !== 'channels_last') fail(`${where} data_format must be 'channels_last'`, describe(df));
    };
    const activation = (): 'relu' | null => {
      const a = c['activation'];
      if (a === undefined || a === null || a === 'linear') return null;
      if (a === 'relu') return 'relu';
      return fail(`${where} activation must be 'linear' or 'relu'`, describe(a));
    };
    if (pendingPad && klass !== 'Conv2D' && klass !== 'ZeroPadding2D') {
      fail(`${where}: a ZeroPadding2D must be followed by a Conv2D (patchcert folds padding into the convolution)`, describe(klass));
    }
    switch (klass) {
      case 'ZeroPadding2D': {
        channelsLast();
        const p = parsePadding(c['padding']);
        if (!p) fail(`${where} padding must be an integer, [rows, cols] or [[top, bottom], [left, right]]`, describe(c['padding']));
        const prev: [number, number, number, number] = pendingPad ?? [0, 0, 0, 0];
        pendingPad = [prev[0] + p![0], prev[1] + p![1], prev[2] + p![2], prev[3] + p![3]];
        return;
      }
      case 'Conv2D': {
        channelsLast();
        if (shape!.length !== 3) fail(`${where} input must be [height, width, channels]`, `[${shape}]`);
        const kernelSize = pair(c['kernel_size']);
        const strides = c['strides'] === undefined ? ([1, 1] as [number, number]) : pair(c['strides']);
        const dilation = c['dilation_rate'] === undefined ? ([1, 1] as [number, number]) : pair(c['dilation_rate']);
        const filters = c['filters'];
        if (!kernelSize) fail(`${where} kernel_size must be a positive integer or pair`, describe(c['kernel_size']));
        if (!strides) fail(`${where} strides must be a positive integer or pair`, describe(c['strides']));
        if (!dilation || dilation[0] !== 1 || dilation[1] !== 1) fail(`${where} dilation_rate must be 1`, describe(c['dilation_rate']));
        if (!Number.isInteger(filters) || (filters as number) < 1) fail(`${where} filters must be a positive integer`, describe(filters));
        const groups = c['groups'];
        if (groups !== undefined && groups !== 1) fail(`${where} groups must be 1`, describe(groups));
        const act = activation();
        const pad: [number, number, number, number] = pendingPad ?? [0, 0, 0, 0];
        pendingPad = null;
        const mode = c['padding'] ?? 'valid';
        if (mode === 'same') {
          // Keras 'same': total padding so out = ceil(in / stride), the extra pixel at bottom/right.
          const extra = (size: number, k: number, s: number): [number, number] => {
            const total = Math.max((Math.ceil(size / s) - 1) * s + k - size, 0);
            return [Math.floor(total / 2), total - Math.floor(total / 2)];
          };
          const [t, b] = extra(shape![0]! + pad[0] + pad[1], kernelSize![0], strides![0]);
          const [l, r] = extra(shape![1]! + pad[2] + pad[3], kernelSize![1], strides![1]);
          pad[0] += t;
          pad[1] += b;
          pad[2] += l;
          pad[3] += r;
        } else if (mode !== 'valid') {
          fail(`${where} padding must be 'valid' or 'same'`, describe(mode));
        }
        weightNames.push({ layer: layers.length, kernel: `${c['name']}/kernel`, bias: c['use_bias'] === false ? null : `${c['name']}/bias` });
        push({ type: 'conv2d', filters: filters as number, kernelSize: kernelSize!, strides: strides!, padding: pad }, where);
        if (act) push({ type: 'relu' }, where);
        return;
      }
      case 'Dense': {
        const units = c['units'];
        if (!Number.isInteger(units) || (units as number) < 1) fail(`${where} units must be a positive integer`, describe(units));
        if (shape!.length !== 1) fail(`${where} input must be flat (add a Flatten before it)`, `shape [${shape}]`);
        const act = activation();
        weightNames.push({ layer: layers.length, kernel: `${c['name']}/kernel`, bias: c['use_bias'] === false ? null : `${c['name']}/bias` });
        push({ type: 'dense', units: units as number }, where);
        if (act) push({ type: 'relu' }, where);
        return;
      }
      case 'Activation': {
        if (activation()) push({ type: 'relu' }, where);
        return;
      }
      case 'ReLU': {
        const maxValue = c['max_value'];
        const slope = c['negative_slope'];
        const threshold = c['threshold'];
        if ((maxValue !== undefined && maxValue !== null) || (slope !== undefined && slope !== 0) || (threshold !== undefined && threshold !== 0)) {
          fail(`${where} must be a plain ReLU (no max_value, negative_slope or threshold)`, JSON.stringify({ maxValue, slope, threshold }));
        }
        push({ type: 'relu' }, where);
        return;
      }
      case 'Flatten': {
        channelsLast();
        push({ type: 'flatten' }, where);
        return;
      }
      default:
        if (typeof klass === 'string' && IDENTITY_LAYERS.has(klass)) return;
        fail(`${where}: the layer type must be one of ${SUPPORTED_KERAS_LAYERS.join(', ')}`, `unknown layer type ${describe(klass)}`);
    }
  });
  if (pendingPad) fail('the last ZeroPadding2D must be followed by a Conv2D', 'none');
  if (!inputShape) fail('the model must declare its input shape (InputLayer or batch_input_shape)', 'none');
  if (shape!.length !== 1) fail('the last layer must output a flat vector of logits', `shape [${shape}]`);
  return { inputShape: inputShape!, layers, weightNames };
}

function isPosInt(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 1;
}

function pair(v: unknown): [number, number] | null {
  if (isPosInt(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every(isPosInt)) return [v[0] as number, v[1] as number];
  if (Array.isArray(v) && v.length === 1 && isPosInt(v[0])) return [v[0], v[0]];
  return null;
}

function isNonNegInt(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0;
}

/** Keras ZeroPadding2D padding → [top, bottom, left, right]. */
function parsePadding(v: unknown): [number, number, number, number] | null {
  if (isNonNegInt(v)) return [v, v, v, v];
  if (!Array.isArray(v) || v.length !== 2) return null;
  const [a, b] = v as unknown[];
  if (isNonNegInt(a) && isNonNegInt(b)) return [a, a, b, b];
  if (Array.isArray(a) && Array.isArray(b) && a.length === 2 && b.length === 2 && [...a, ...b].every(isNonNegInt)) {
    return [a[0], a[1], b[0], b[1]] as [number, number, number, number];
  }
  return null;
}

function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
