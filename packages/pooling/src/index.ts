/**
 * @packageDocumentation
 * `@patchcert/pooling`: bound pooling over neighbouring patch locations (Chiang et al., ICLR
 * 2020, appendix A.3; reference-spec §8). After chosen layers the interval bounds of each n×n
 * block of adjacent patch locations are replaced by their element-wise max (upper) and min
 * (lower), so deeper layers process one box per block: a sound, looser and cheaper bound.
 *
 * Pool specs (`[2]`, `[2, 1, 2]`, `'pool4'`), a certificate (`pooledCertify`), differentiable
 * margins for training (`pooledWorstMargins`, `pooledLocationMargins`, from
 * `@patchcert/bounds`, which composes pooling with its fast plans) and the trainer's `pooled`
 * strategy (`pooledPatches`).
 */

// #region specs
export { parsePoolSpec, poolSpecName } from './pool-spec.js';
export type { PoolSpec, PoolSpecLike } from './pool-spec.js';
// #endregion

// #region certification and margins
export { pooledCertify } from './pooled-certify.js';
export type { PooledCertifyOptions, PooledCertifyResult } from './pooled-certify.js';
export { pooledWorstMargins, pooledLocationMargins, pooledGrid } from '@patchcert/bounds';
export type { PooledMarginOptions, PooledGrid } from '@patchcert/bounds';
// #endregion

// #region training strategy
export { pooledPatches } from './pooled-patches.js';
export type { PooledPatchesOptions } from './pooled-patches.js';
// #endregion
