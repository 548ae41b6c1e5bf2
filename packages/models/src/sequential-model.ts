import { tf, PatchcertError, type Normalization, normalizeImages } from '@patchcert/backend';
import { layerOutputShape, type LayerSpec } from './layer-spec.js';

/** How a model was trained, recorded so certification and reports can say it. */
export interface TrainingRecord {
  threatModel?: string;
  strategy?: string;
  epochs?: number;
  seed?: number;
  [key: string]: unknown;
}

/** What certification needs to know about a model besides its weights. */
export interface ModelMetadata {
  /** Dataset name as in the @patchcert/datasets registry (`mnist`, `cifar10`, `folder:…`). */
  dataset: string;
  /** `[height, width, channels]`. */
  inputShape: [number, number, number];
  classNames: string[];
  /** Applied to pixel-space [0,1] images before the first layer. */
  normalization: Normalization;
  /** Architecture name from the builders (`mlp`, `cnn-4layer`, …). */
  architecture: string;
  training?: TrainingRecord;
}

/** The parameters of one affine layer. */
export interface LayerWeights {
  /** dense: `[in, units]`; conv2d: `[kh, kw, inChannels, filters]`. */
  kernel: tf.Variable;
  /** `[units]` or `[filters]`. */
  bias: tf.Variable;
}

/**
 * A feed-forward network of dense, conv2d, relu and flatten layers over NHWC input, the shape of
 * every network in the paper. `forward` takes *normalized* input; `predict` takes pixel-space
 * images in [0,1] and normalizes them with the model's metadata.
 */
export class SequentialModel {
  readonly layers: readonly LayerSpec[];
  /** Per layer: weights for dense/conv2d, null for relu/flatten. */
  readonly weights: ReadonlyArray<LayerWeights | null>;
  metadata: ModelMetadata;
  /** Output shape of every layer, without batch dimension (`shapes[i]` is layer i's output). */
  readonly shapes: readonly (readonly number[])[];

  /**
   * @param layers - the layer list.
   * @param weights - for each dense/conv2d layer in order, its kernel and bias tensors (copied
   *   into new variables).
   * @param metadata - input shape, classes, normalization, architecture.
   * @throws PatchcertError `SHAPE_MISMATCH` when a weight's shape does not fit the layer list.
   */
  constructor(layers: readonly LayerSpec[], weights: ReadonlyArray<{ kernel: tf.Tensor; bias: tf.Tensor }>, metadata: ModelMetadata) {
    this.layers = layers.map((l) => structuredClone(l));
    this.metadata = metadata;
    const shapes: number[][] = [];
    let shape: number[] = [...metadata.inputShape];
    const vars: (LayerWeights | null)[] = [];
    let wi = 0;
    this.layers.forEach((layer, i) => {
      if (layer.type === 'dense' || layer.type === 'conv2d') {
        if (layer.type === 'dense' && shape.length !== 1) {
          throw new PatchcertError('SHAPE_MISMATCH', `Error in SequentialModel: dense layer ${i} must follow a flatten or dense layer, but its input has shape [${shape}].`);
        }
        if (layer.type === 'conv2d' && shape.length !== 3) {
          throw new PatchcertError('SHAPE_MISMATCH', `Error in SequentialModel: conv2d layer ${i} needs [height, width, channels] input, but got [${shape}].`);
        }
        const w = weights[wi++];
        const expectK = layer.type === 'dense' ? [shape[0]!, layer.units] : [layer.kernelSize[0], layer.kernelSize[1], shape[2]!, layer.filters];
        const expectB = [expectK[expectK.length - 1]!];
        if (!w) throw new PatchcertError('SHAPE_MISMATCH', `Error in SequentialModel: layer ${i} (${layer.type}) has no weights; ${weights.length} weight pairs were given.`);
        if (!sameShape(w.kernel.shape, expectK) || !sameShape(w.bias.shape, expectB)) {
          throw new PatchcertError(
            'SHAPE_MISMATCH',
            `Error in SequentialModel: layer ${i} (${layer.type}) kernel must be [${expectK}] and bias [${expectB}], but got [${w.kernel.shape}] and [${w.bias.shape}].`,
          );
        }
        vars.push({ kernel: toVariable(w.kernel, `l${i}_kernel_${uid()}`), bias: toVariable(w.bias, `l${i}_bias_${uid()}`) });
      } else {
        vars.push(null);
      }
      shape = layerOutputShape(layer, shape);
      shapes.push(shape);
    });
    if (wi !== weights.length) {
      throw new PatchcertError('SHAPE_MISMATCH', `Error in SequentialModel: ${weights.length} weight pairs were given for ${wi} affine layers.`);
    }
    const last = shape;
    if (last.length !== 1 || last[0] !== metadata.classNames.length) {
      throw new PatchcertError(
        'SHAPE_MISMATCH',
        `Error in SequentialModel: the last layer must output [${metadata.classNames.length}] logits (one per class name), but outputs [${last}].`,
      );
    }
    this.weights = vars;
    this.shapes = shapes;
  }

  get inputShape(): [number, number, number] {
    return this.metadata.inputShape;
  }

  get numClasses(): number {
    return this.metadata.classNames.length;
  }

  /** Logits `[batch, classes]` for normalized input `[batch, height, width, channels]`. */
  forward(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor = x;
      this.layers.forEach((layer, i) => {
        h = applyLayer(layer, this.weights[i] ?? null, h);
      });
      return h as tf.Tensor2D;
    });
  }

  /** Logits for pixel-space images in [0,1]; applies the model's normalization first. */
  predict(pixels: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.forward(normalizeImages(pixels, this.metadata.normalization)));
  }

  /** The trainable variables, kernel then bias, layer by layer. */
  trainableVariables(): tf.Variable[] {
    return this.weights.flatMap((w) => (w ? [w.kernel, w.bias] : []));
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    return this.trainableVariables().reduce((s, v) => s + v.size, 0);
  }

  /** Frees the variables. */
  dispose(): void {
    for (const v of this.trainableVariables()) v.dispose();
  }
}

/** Applies one layer to a tensor in the forward (concrete) direction. */
export function applyLayer(layer: LayerSpec, w: LayerWeights | null, h: tf.Tensor): tf.Tensor {
  switch (layer.type) {
    case 'dense':
      return tf.add(tf.matMul(h as tf.Tensor2D, w!.kernel as tf.Tensor2D), w!.bias);
    case 'conv2d': {
      const [pt, pb, pl, pr] = layer.padding;
      const out = tf.conv2d(h as tf.Tensor4D, w!.kernel as tf.Tensor4D, layer.strides, [[0, 0], [pt, pb], [pl, pr], [0, 0]]);
      return tf.add(out, w!.bias);
    }
    case 'relu':
      return tf.relu(h);
    case 'flatten':
      return tf.reshape(h, [h.shape[0]!, -1]);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** A float32 variable holding a copy of `t`; the cast's temporary is freed so nothing leaks. */
function toVariable(t: tf.Tensor, name: string): tf.Variable {
  const copy = t.toFloat();
  const v = tf.variable(copy, true, name);
  // tf.variable shares copy's data; disposing copy drops only its own reference.
  copy.dispose();
  return v;
}

let counter = 0;
function uid(): number {
  return counter++;
}
