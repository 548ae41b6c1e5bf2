/**
 * @packageDocumentation
 * `@patchcert/trainers`: certificate training against adversarial patches (Chiang et al., ICLR
 * 2020). A JSON config (validated by zod) names the dataset, architecture, threat and strategy;
 * {@link train} runs the reference's warm-up and learning-rate schedules with a PyTorch-exact
 * Adam, minimises CE(−m, y) over worst-case margin lower bounds m from the strategy (all
 * locations, random(k), sparse, or a registered one such as guided(k) / pooled), certifies a
 * held-out subset every epoch, and checkpoints atomically so a run resumes exactly. The ablation
 * strategies train base classifiers of `@patchcert/ablation` in the same loop (their margins are
 * plain logit differences on ablated images) and certify the smoothed classifier instead.
 */

// #region training
export { train } from './trainer.js';
export type { TrainOptions } from './trainer.js';
export type { TrainEvent, EpochMetrics, EvaluationResult, TrainResult } from './trainer-events.js';
export { evaluateCertified } from './evaluate.js';
export type { EvaluateOptions } from './evaluate.js';
// #endregion

// #region config
export { trainConfigSchema, threatConfigSchema, strategyConfigSchema, parseTrainConfig, loadTrainConfig, describeThreat } from './train-config.js';
export type { TrainConfig, TrainConfigInput, ThreatConfig, StrategyConfig } from './train-config.js';
// #endregion

// #region schedules and optimization
export { epsSchedule, epochEpsRange, isNaturalEpoch, batchEps, learningRate, NATURAL_EPS_THRESHOLD } from './schedules.js';
export type { ScheduleOptions, LearningRateOptions } from './schedules.js';
export { Adam } from './adam.js';
export type { AdamOptions, AdamState } from './adam.js';
export { crossEntropy, certificateLoss } from './losses.js';
// #endregion

// #region strategies
export { registerStrategy, unregisterStrategy, registeredStrategies, createStrategy, strategyRun } from './strategy-registry.js';
export type { StrategyDefinition, StrategyBuildContext } from './strategy-registry.js';
export { IBP_RUN } from './strategy-run.js';
export type { StrategyRun } from './strategy-run.js';
export { registerBuiltinStrategies } from './register-strategies.js';
export { naturalTraining } from './strategies/natural-training.js';
export { allPatches } from './strategies/all-patches.js';
export { randomPatches } from './strategies/random-patches.js';
export { sparseTraining } from './strategies/sparse-training.js';
export { ablationTraining, ablationRun, ablationModeOfStrategy } from './strategies/ablation.js';
export { makeThreat } from './make-threat.js';
export type { Threat } from './make-threat.js';
// #endregion

// #region checkpoints
export { saveCheckpoint, loadCheckpoint, findCheckpoint, CHECKPOINT_DIR } from './checkpoint.js';
export type { CheckpointState } from './checkpoint.js';
// #endregion
