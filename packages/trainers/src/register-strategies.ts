// Registers the built-in strategy types. A new strategy (from @patchcert/unet-guide,
// @patchcert/pooling or a user package) registers itself the same way through
// registerStrategy; the training loop only ever calls createStrategy.
import { availableParallelism } from 'node:os';
import { PatchcertError } from '@patchcert/backend';
import { locationMargins } from '@patchcert/bounds';
import { guidedPatches } from '@patchcert/unet-guide';
import { pooledPatches } from '@patchcert/pooling';
import { registerStrategy, type StrategyDefinition } from './strategy-registry.js';
import { naturalTraining } from './strategies/natural-training.js';
import { allPatches } from './strategies/all-patches.js';
import { randomPatches } from './strategies/random-patches.js';
import { sparseTraining } from './strategies/sparse-training.js';
import { ablationModeOfStrategy, ablationRun, ablationTraining } from './strategies/ablation.js';

const naturalDef: StrategyDefinition<'natural'> = { type: 'natural', description: 'plain cross-entropy (undefended baseline)', create: () => naturalTraining() };
const allDef: StrategyDefinition<'all'> = { type: 'all', description: 'worst case over every patch location', create: (p, ctx) => allPatches(ctx.threat, p.method ? { method: p.method } : {}) };
const randomDef: StrategyDefinition<'random'> = {
  type: 'random',
  description: 'worst case over k random locations per image, redrawn every batch',
  create: (p, ctx) => randomPatches(p.k, ctx.threat, p.method ? { method: p.method } : {}),
};
const sparseDef: StrategyDefinition<'sparse'> = { type: 'sparse', description: 'top-k first layer bound for a k-pixel threat', create: (_p, ctx) => sparseTraining(ctx.threat) };

// Ablation base classifiers: plain CE on ablated images; their run builds the model for the
// [H, W, 2C] encoding and certifies the smoothed classifier instead of IBP.
const ablationColumnDef: StrategyDefinition<'ablation-column'> = {
  type: 'ablation-column',
  description: 'base classifier of derandomized column smoothing (one random column band of width s kept per image)',
  create: (p) => ablationTraining(ablationModeOfStrategy(p)),
  run: ablationRun,
};
const ablationBlockDef: StrategyDefinition<'ablation-block'> = {
  type: 'ablation-block',
  description: 'base classifier of derandomized block smoothing (one random s×s block kept per image)',
  create: (p) => ablationTraining(ablationModeOfStrategy(p)),
  run: ablationRun,
};
const ablationRandomDef: StrategyDefinition<'ablation-random'> = {
  type: 'ablation-random',
  description: 'base classifier of random ablation (kKeep random pixels kept per image)',
  create: (p) => ablationTraining(ablationModeOfStrategy(p)),
  run: ablationRun,
};

/** Registers natural, all, random, sparse, guided, pooled and the ablation strategies. */
export function registerBuiltinStrategies(): void {
  registerStrategy(naturalDef);
  registerStrategy(allDef);
  registerStrategy(randomDef);
  registerStrategy(sparseDef);
  registerStrategy(guidedDef);
  registerStrategy(pooledDef);
  registerStrategy(ablationColumnDef);
  registerStrategy(ablationBlockDef);
  registerStrategy(ablationRandomDef);
}

/** `workers: 'auto'` of guided: the cores there are, up to this (see train-config.ts). */
const AUTO_WORKERS_MAX = 4;

const guidedDef: StrategyDefinition<'guided'> = {
  type: 'guided',
  description: 'worst case over k locations per image sampled from a U-Net that predicts margins (@patchcert/unet-guide)',
  create: (p, ctx) => {
    if (ctx.threat.kind !== 'patch') throw new PatchcertError('INVALID_OPTION', `Error in createStrategy: guided needs a patch threat, but got ${ctx.threat.name}.`);
    return guidedPatches({
      k: p.k,
      threat: ctx.threat,
      ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
      ...(p.baseWidth !== undefined ? { baseWidth: p.baseWidth } : {}),
      ...(p.accumulateGradients !== undefined ? { accumulateGradients: p.accumulateGradients } : {}),
      ...(p.transposeCoordinates !== undefined ? { transposeCoordinates: p.transposeCoordinates } : {}),
      ...(p.workers !== undefined ? { workers: p.workers === 'auto' ? Math.min(availableParallelism(), AUTO_WORKERS_MAX) : p.workers } : {}),
      learningRate: ctx.config.lr,
      // Derived from the run seed, not drawn, so a resumed run builds the same U-Net.
      seed: ctx.config.seed + 1,
      locationMargins,
    });
  },
};
const pooledDef: StrategyDefinition<'pooled'> = {
  type: 'pooled',
  description: 'worst case over every location with bounds pooled over n×n location blocks after the listed layers (@patchcert/pooling)',
  create: (p, ctx) => {
    if (ctx.threat.kind !== 'patch') throw new PatchcertError('INVALID_OPTION', `Error in createStrategy: pooled needs a patch threat, but got ${ctx.threat.name}.`);
    return pooledPatches({ pool: p.neighbor, threat: ctx.threat });
  },
};

registerBuiltinStrategies();
