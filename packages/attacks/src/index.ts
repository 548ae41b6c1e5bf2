/**
 * @packageDocumentation
 * `@patchcert/attacks`: empirical attacks that check certificates from the outside. The paper's
 * "IFGSM" patch attack (random / corner / exhaustive placement, targeted or not, square or shaped
 * patches), a sparse k-pixel attack, the pre-processing defenses the paper breaks (Local
 * Gradient Smoothing, Digital Watermarking) with adaptive attacks through them (differentiating
 * through LGS, BPDA through DW), and the paper's Table 1/2 rows.
 */

// #region attacks
export { patchAttack, DEFAULT_PATCH_ATTACK, PLACEMENTS } from './patch-attack.js';
export type { PatchAttackOptions, Placement } from './patch-attack.js';
export { sparseAttack, DEFAULT_SPARSE_ATTACK } from './sparse-attack.js';
export type { SparseAttackOptions } from './sparse-attack.js';
export type { AttackResult, PatchAttackResult } from './attack-result.js';
export type { Classifier } from './classifier.js';
// #endregion

// #region patch geometry
export { patchGeometry, locationGrid } from './patch-geometry.js';
export type { PatchGeometry, PatchSpec } from './patch-geometry.js';
// #endregion

// #region defenses
export { localGradientSmoothing, DEFAULT_LGS } from './local-gradient-smoothing.js';
export type { LocalGradientSmoothingOptions } from './local-gradient-smoothing.js';
export { digitalWatermarking, DEFAULT_DW } from './digital-watermarking.js';
export type { DigitalWatermarkingOptions } from './digital-watermarking.js';
export type { Defense } from './defense.js';
// #endregion

// #region tables
export { attackTable, formatAttackTable, DEFENSE_NAMES } from './attack-table.js';
export type { AttackTableOptions, AttackTableRow, DefenseName } from './attack-table.js';
// #endregion
