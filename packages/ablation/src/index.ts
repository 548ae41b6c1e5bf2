/**
 * @packageDocumentation
 * `@patchcert/ablation`: certificates by ablation, beside IBP. A base classifier sees images with
 * most pixels ablated (encoded as extra channels, see {@link encodeAblated}); a smoothed
 * classifier votes over many ablations, and the vote itself is certified:
 *
 * - random ablation (Levine & Feizi 2019) against L0 attacks: Monte Carlo votes with a
 *   Clopper–Pearson bound ({@link certifyRandomAblation});
 * - derandomized smoothing (Levine & Feizi 2020) against patches: deterministic votes over all
 *   column bands (or blocks) and a vote-margin rule ({@link certifyDerandomizedColumns}).
 *
 * Training ({@link trainAblationClassifier}) is plain cross-entropy on fresh ablations per batch.
 * The certify app and the trainer call these plain functions; they do not fit `MarginStrategy`,
 * whose margins are IBP bounds.
 */

// #region encoding and masks
export { encodeAblated } from './ablation-encoding.js';
export { randomKeepMasks, identityPermutation, bandMasks, bandCount, writeBandMask, bandsMetByPatch } from './ablation-masks.js';
export type { BandKind } from './ablation-masks.js';
// #endregion

// #region statistics
export { clopperPearsonLower, clopperPearsonUpper, betaQuantile, regularizedIncompleteBeta, logGamma } from './clopper-pearson.js';
export { ablationDelta } from './ablation-delta.js';
export { certifyVoteCounts } from './vote-certificate.js';
export type { VoteVerdict } from './vote-certificate.js';
// #endregion

// #region certification
export { certifyRandomAblation, DEFAULT_RANDOM_ABLATION_CERTIFY } from './random-ablation.js';
export type { RandomAblationCertifyOptions, RandomAblationCertifyResult } from './random-ablation.js';
export { certifyDerandomizedColumns, bandVotes, softVoteLogits } from './derandomized-smoothing.js';
export type { BandVoteOptions, DerandomizedCertifyOptions, DerandomizedCertifyResult } from './derandomized-smoothing.js';
// #endregion

// #region training
export { trainAblationClassifier, sampleTrainingMasks, ablationModeOf, DEFAULT_ABLATION_TRAIN } from './train-ablation.js';
export type { AblationMode, AblationTrainOptions, AblationTrainProgress, AblationTrainResult } from './train-ablation.js';
export { ablationMargins } from './ablation-margins.js';
// #endregion
