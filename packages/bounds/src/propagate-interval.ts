import { tf, assert } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { toCenterRadius, toInterval, type CenterRadius, type Interval } from './interval.js';
import { intervalLayer } from './interval-layer.js';

/**
 * Center/radius propagation through layers `[from, to)`; the caller owns the result. Internal
 * workhorse of {@link propagateInterval} and the margin functions.
 */
export function propagateCenterRadius(model: SequentialModel, box: CenterRadius, from: number, to: number): CenterRadius {
  return tf.tidy(() => {
    let cur = box;
    for (let i = from; i < to; i++) cur = intervalLayer(model.layers[i]!, model.weights[i] ?? null, cur);
    if (from === to) return { mu: tf.clone(cur.mu), r: tf.clone(cur.r) };
    return cur;
  });
}

/**
 * Propagates a box through the layers `[from, to)` of a model with interval bound propagation.
 *
 * @param model - the network.
 * @param interval - a box in the input space of layer `from` (for `from = 0`: *normalized*
 *   images `[batch, height, width, channels]`).
 * @param from - first layer to apply. @defaultValue 0
 * @param to - one past the last layer to apply. @defaultValue `model.layers.length`
 * @returns the box after layer `to − 1` (new tensors; the caller disposes them).
 * @throws PatchcertError `INVALID_ARGUMENT` when the layer range is out of bounds.
 * @example
 * const out = propagateInterval(model, inputBox(images, squarePatch(2), 0, 1, norm));
 */
export function propagateInterval(model: SequentialModel, interval: Interval, from = 0, to = model.layers.length): Interval {
  assert(
    Number.isInteger(from) && Number.isInteger(to) && from >= 0 && from <= to && to <= model.layers.length,
    () => `Error in propagateInterval: the layer range must satisfy 0 ≤ from ≤ to ≤ ${model.layers.length}, but got from=${from}, to=${to}.`,
  );
  return tf.tidy(() => toInterval(propagateCenterRadius(model, toCenterRadius(interval), from, to)));
}
