/**
 * @packageDocumentation
 * `@patchcert/bounds`: interval bound propagation (IBP) for patch, shape and sparse threat
 * models, margin bounds with the elided last layer, and `certify()`.
 *
 * Three nouns and one verb: a model (`SequentialModel` from `@patchcert/models`), a threat
 * (`squarePatch(n)`, `shapePatch(mask)`, `namedShape(name, px)`, `sparsePixels(k)`), and
 * `certify` / `worstMargins` / `locationMargins` to ask for bounds. The lower-level rules
 * (`intervalDense`, `intervalConv2d`, `intervalRelu`, `propagateInterval`, …) are exported for
 * users who bound their own boxes.
 */

// #region certification and margins
export { certify } from './certify.js';
export type { CertifyOptions, CertifyResult } from './certify.js';
export { locationMargins, worstMargins } from './location-margins.js';
export { minOverLocations } from './internal/min-over-locations.js';
export type { MarginOptions } from './location-margins.js';
export type { BoundMethod } from './internal/create-plan.js';
export type { LabelsLike } from './internal/labels.js';
export { pooledLocationMargins, pooledWorstMargins, pooledGrid } from './internal/pooled-margins.js';
export type { PooledMarginOptions, PooledGrid } from './internal/pooled-margins.js';
// #endregion

// #region threat models
export { PatchThreat, squarePatch, rectanglePatch, shapePatch } from './patch-threat.js';
export type { LocationOrigin } from './patch-threat.js';
export { namedShape, SHAPE_NAMES } from './named-shapes.js';
export type { ShapeName } from './named-shapes.js';
export { SparseThreat, sparsePixels } from './sparse-threat.js';
export type { ThreatModel } from './threat-model.js';
export { inputBox, pixelBoxes } from './input-box.js';
export type { PixelBoxes } from './input-box.js';
// #endregion

// #region interval rules
export { toCenterRadius, toInterval } from './interval.js';
export type { Interval, CenterRadius } from './interval.js';
export { intervalDense } from './interval-dense.js';
export { intervalConv2d } from './interval-conv2d.js';
export { intervalRelu } from './interval-relu.js';
export { intervalFlatten } from './interval-flatten.js';
export { intervalLayer, intervalAffine } from './interval-layer.js';
export { propagateInterval } from './propagate-interval.js';
export { elidedMarginBounds } from './elided-margins.js';
export { sparseFirstLayerBounds } from './sparse-bounds.js';
// #endregion

// #region strategies
export type { MarginStrategy, MarginStrategyContext } from './margin-strategy.js';
// #endregion
