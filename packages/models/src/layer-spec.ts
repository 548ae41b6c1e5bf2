/**
 * The layers a patchcert model is made of: the four the paper's networks use, so every one of
 * them has an exact interval bound rule in @patchcert/bounds.
 */
export type LayerSpec = DenseSpec | Conv2DSpec | ReluSpec | FlattenSpec;

/** Fully connected: y = x·W + b, kernel `[in, units]`, bias `[units]`. */
export interface DenseSpec {
  type: 'dense';
  units: number;
}

/**
 * 2-D cross-correlation in NHWC, kernel `[kh, kw, inChannels, filters]`, bias `[filters]`,
 * zero padding given explicitly as `[top, bottom, left, right]` (PyTorch's `padding=p` is
 * `[p, p, p, p]`).
 */
export interface Conv2DSpec {
  type: 'conv2d';
  filters: number;
  kernelSize: [number, number];
  strides: [number, number];
  padding: [number, number, number, number];
}

export interface ReluSpec {
  type: 'relu';
}

/** Row-major flatten of `[height, width, channels]` (channel fastest, as Keras channels_last). */
export interface FlattenSpec {
  type: 'flatten';
}

/** Output shape of one layer given its input shape (without the batch dimension). */
export function layerOutputShape(layer: LayerSpec, input: readonly number[]): number[] {
  switch (layer.type) {
    case 'dense':
      return [layer.units];
    case 'conv2d': {
      const [h, w] = input as [number, number, number];
      const [kh, kw] = layer.kernelSize;
      const [sh, sw] = layer.strides;
      const [pt, pb, pl, pr] = layer.padding;
      return [Math.floor((h + pt + pb - kh) / sh) + 1, Math.floor((w + pl + pr - kw) / sw) + 1, layer.filters];
    }
    case 'relu':
      return [...input];
    case 'flatten':
      return [input.reduce((a, b) => a * b, 1)];
  }
}
