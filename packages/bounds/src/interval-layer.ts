import { PatchcertError } from '@patchcert/backend';
import type { LayerSpec, LayerWeights } from '@patchcert/models';
import type { CenterRadius } from './interval.js';
import { intervalDense } from './interval-dense.js';
import { intervalConv2d } from './interval-conv2d.js';
import { intervalRelu } from './interval-relu.js';
import { intervalFlatten } from './interval-flatten.js';

/**
 * Applies the interval rule of one layer. Affine layers (dense, conv2d) use their weights;
 * relu and flatten have none.
 *
 * @throws PatchcertError `UNSUPPORTED_LAYER` for a layer type without a rule (add one as
 *   `src/interval-<type>.ts` and a case here).
 */
export function intervalLayer(layer: LayerSpec, weights: LayerWeights | null, box: CenterRadius): CenterRadius {
  switch (layer.type) {
    case 'dense':
      return intervalDense(box, weights!.kernel, weights!.bias);
    case 'conv2d':
      return intervalConv2d(box, layer, weights!.kernel, weights!.bias);
    case 'relu':
      return intervalRelu(box);
    case 'flatten':
      return intervalFlatten(box);
    default:
      throw new PatchcertError(
        'UNSUPPORTED_LAYER',
        `Error in intervalLayer: layer type must be dense, conv2d, relu or flatten, but got ${(layer as { type: string }).type} (no interval_propagate rule; add src/interval-<type>.ts and a case in src/interval-layer.ts).`,
      );
  }
}

/**
 * Interval rule of an affine layer (dense or conv2d), the contract name for the two rules.
 * @throws PatchcertError `UNSUPPORTED_LAYER` when `layer` is not affine.
 */
export function intervalAffine(layer: LayerSpec, weights: LayerWeights, box: CenterRadius): CenterRadius {
  if (layer.type !== 'dense' && layer.type !== 'conv2d') {
    throw new PatchcertError('UNSUPPORTED_LAYER', `Error in intervalAffine: layer must be dense or conv2d, but got ${layer.type}.`);
  }
  return intervalLayer(layer, weights, box);
}
