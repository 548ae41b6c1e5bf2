/**
 * @packageDocumentation
 * `@patchcert/bounds`: interval bound propagation for patch, shape and sparse threat models,
 * margin bounds with the elided last layer, and `certify()`.
 */

// #region strategies
export type { MarginStrategy, MarginStrategyContext } from './margin-strategy.js';
// #endregion
