// Registers the built-in strategy types. A new strategy (from @patchcert/unet-guide,
// @patchcert/pooling or a user package) registers itself the same way through
// registerStrategy; the training loop only ever calls createStrategy.
import { PatchcertError } from '@patchcert/backend';
import { registerStrategy, type StrategyDefinition } from './strategy-registry.js';
import { naturalTraining } from './strategies/natural-training.js';
import { allPatches } from './strategies/all-patches.js';
import { randomPatches } from './strategies/random-patches.js';
import { sparseTraining } from './strategies/sparse-training.js';

const naturalDef: StrategyDefinition<'natural'> = { type: 'natural', description: 'plain cross-entropy (undefended baseline)', create: () => naturalTraining() };
const allDef: StrategyDefinition<'all'> = { type: 'all', description: 'worst case over every patch location', create: (_p, ctx) => allPatches(ctx.threat) };
const randomDef: StrategyDefinition<'random'> = {
  type: 'random',
  description: 'worst case over k random locations per image, redrawn every batch',
  create: (p, ctx) => randomPatches(p.k, ctx.threat),
};
const sparseDef: StrategyDefinition<'sparse'> = { type: 'sparse', description: 'top-k first layer bound for a k-pixel threat', create: (_p, ctx) => sparseTraining(ctx.threat) };

function pending(type: 'guided' | 'pooled', pkg: string): StrategyDefinition<typeof type> {
  return {
    type,
    description: `provided by ${pkg}`,
    create: () => {
      throw new PatchcertError('INVALID_OPTION', `Error in createStrategy: strategy '${type}' must be provided by ${pkg}, but that package does not export it yet.`);
    },
  };
}

/** Registers natural, all, random and sparse (and placeholders for guided and pooled). */
export function registerBuiltinStrategies(): void {
  registerStrategy(naturalDef);
  registerStrategy(allDef);
  registerStrategy(randomDef);
  registerStrategy(sparseDef);
  registerStrategy(guidedDef);
  registerStrategy(pooledDef);
}

const guidedDef = pending('guided', '@patchcert/unet-guide');
const pooledDef = pending('pooled', '@patchcert/pooling');

registerBuiltinStrategies();
