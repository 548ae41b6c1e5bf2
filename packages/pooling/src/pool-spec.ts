import { assert, PatchcertError } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';

/**
 * Bound pooling per layer: `pool[i] = n > 1` pools n×n blocks of adjacent patch locations after
 * layer i of the model's layer list (relu and flatten count, as in the reference's `neighbor`
 * list); 1 means no pooling. `[2]` = Pool 2 and `[2, 1, 2]` = Pool 2-2 on the 4-layer CNN.
 */
export type PoolSpec = readonly number[];

/** What {@link parsePoolSpec} accepts: a layer-indexed list, or a name such as `'pool2'`, `'pool4'`, `'pool2-2'`. */
export type PoolSpecLike = PoolSpec | string;

/**
 * Resolves a pool spec for a model. A list is checked and returned as is. A name counts affine
 * layers (conv or dense), so it means the same on every architecture: `'poolN'` pools N×N after
 * the first affine layer, `'poolA-B'` A×A after the first and B×B after the second (`'pool2-2'`
 * on the 4-layer CNN is `[2, 1, 2]`; `'pool212'`, the configs' spelling, is accepted too).
 *
 * @param spec - a list or a name.
 * @param model - the network the spec applies to.
 * @returns the layer-indexed list.
 * @throws PatchcertError `INVALID_OPTION` for an unknown name, a non-positive entry, or pooling
 *   at or after the last (margin) layer.
 * @example
 * parsePoolSpec('pool2-2', buildModel('cnn-4layer', { inputShape: [28, 28, 1], numClasses: 10 })); // [2, 1, 2]
 */
export function parsePoolSpec(spec: PoolSpecLike, model: SequentialModel): number[] {
  const last = model.layers.length - 1;
  let list: number[];
  if (typeof spec === 'string') {
    const m = /^pool(\d+)(?:-(\d+))?$/.exec(spec.trim().toLowerCase());
    const m212 = /^pool(\d)1(\d)$/.exec(spec.trim().toLowerCase());
    const sizes = m212 ? [Number(m212[1]), Number(m212[2])] : m ? [Number(m[1]), ...(m[2] ? [Number(m[2])] : [])] : null;
    if (!sizes) {
      throw new PatchcertError('INVALID_OPTION', `Error in parsePoolSpec: spec must be a list of block sizes or a name like 'pool2', 'pool4', 'pool2-2', but got '${spec}'.`);
    }
    const affine = model.layers.flatMap((l, i) => (l.type === 'dense' || l.type === 'conv2d') && i < last ? [i] : []);
    assert(affine.length >= sizes.length,
      () => `Error in parsePoolSpec: the model must have ${sizes.length} affine layers before the last one for '${spec}', but got ${affine.length}.`, 'INVALID_OPTION');
    list = new Array<number>(affine[sizes.length - 1]! + 1).fill(1);
    sizes.forEach((n, k) => (list[affine[k]!] = n));
  } else {
    assert(Array.isArray(spec), () => `Error in parsePoolSpec: spec must be an array or a name, but got ${typeof spec}.`, 'INVALID_OPTION');
    list = [...spec];
  }
  assert(list.every((n) => Number.isInteger(n) && n >= 1),
    () => `Error in parsePoolSpec: every block size must be a positive integer, but got ${JSON.stringify(list)}.`, 'INVALID_OPTION');
  assert(list.slice(last).every((n) => n === 1),
    () => `Error in parsePoolSpec: pooling must happen before the last layer (index ${last}), but got ${JSON.stringify(list)}.`, 'INVALID_OPTION');
  return list.slice(0, Math.max(0, Math.min(list.length, last)));
}

/** A short display form: `[2, 1, 2]` → `pool(2,1,2)`. */
export function poolSpecName(spec: PoolSpec): string {
  return `pool(${spec.join(',')})`;
}
