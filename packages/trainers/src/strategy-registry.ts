import { PatchcertError, type Rng } from '@patchcert/backend';
import type { MarginStrategy } from '@patchcert/bounds';
import type { SequentialModel } from '@patchcert/models';
import type { StrategyConfig, TrainConfig } from './train-config.js';
import type { Threat } from './internal/bounds-api.js';
import { IBP_RUN, type StrategyRun } from './strategy-run.js';

/** What a strategy factory gets besides its own config entry. */
export interface StrategyBuildContext {
  /** The run's threat model (built from `config.threat`). */
  threat: Threat;
  /** The model being trained. */
  model: SequentialModel;
  /** The whole run config (learning rate, schedule, dataset...). */
  config: TrainConfig;
  /** The run's generator (for strategies that initialise weights, e.g. a U-Net). */
  rng: Rng;
}

/** A strategy type the trainer can build from `config.strategy` by its `type`. */
export interface StrategyDefinition<T extends StrategyConfig['type'] = StrategyConfig['type']> {
  type: T;
  /** One line for `--help` and READMEs. */
  description: string;
  create(params: Extract<StrategyConfig, { type: T }>, ctx: StrategyBuildContext): MarginStrategy | Promise<MarginStrategy>;
  /**
   * How the run around the strategy differs from IBP training (model input, warm-up, train
   * accuracy, certificate); read before the model is built.
   * @defaultValue undefined (the IBP run, {@link IBP_RUN})
   */
  run?(params: Extract<StrategyConfig, { type: T }>, config: TrainConfig): StrategyRun;
}

const registry = new Map<string, StrategyDefinition>();

/**
 * Registers a strategy type, so configs naming it train with it without any change to the loop.
 * Registering the same definition again does nothing.
 *
 * @throws PatchcertError `INVALID_OPTION` when another definition already holds the type.
 * @example
 * registerStrategy({ type: 'guided', description: 'U-Net guided(k)', create: (p, ctx) => guidedPatches(p.k, ctx) });
 */
export function registerStrategy<T extends StrategyConfig['type']>(def: StrategyDefinition<T>): void {
  const taken = registry.get(def.type);
  if (taken === (def as unknown as StrategyDefinition)) return;
  if (taken) {
    throw new PatchcertError('INVALID_OPTION', `Error in registerStrategy: type '${def.type}' must be registered once, but another definition already holds it; call unregisterStrategy('${def.type}') first.`);
  }
  registry.set(def.type, def as unknown as StrategyDefinition);
}

/** Removes a registered type (to replace a built-in one). */
export function unregisterStrategy(type: string): void {
  if (!registry.delete(type)) {
    throw new PatchcertError('INVALID_OPTION', `Error in unregisterStrategy: type must be registered, but got '${type}' (registered: ${[...registry.keys()].join(', ')}).`);
  }
}

/** The registered strategy types with their descriptions. */
export function registeredStrategies(): { type: string; description: string }[] {
  return [...registry.values()].map((d) => ({ type: d.type, description: d.description }));
}

function definitionOf(params: StrategyConfig, fn: string): StrategyDefinition {
  const def = registry.get(params.type);
  if (!def) {
    throw new PatchcertError(
      'INVALID_OPTION',
      `Error in ${fn}: strategy.type must be a registered strategy (${[...registry.keys()].join(', ')}), but got '${params.type}'.`,
    );
  }
  return def;
}

/**
 * The run hooks of the strategy `config.strategy` names: its own, or {@link IBP_RUN}.
 * @throws PatchcertError `INVALID_OPTION` when no definition is registered for the type.
 */
export function strategyRun(config: TrainConfig): StrategyRun {
  const def = definitionOf(config.strategy, 'strategyRun');
  return def.run ? def.run(config.strategy as never, config) : IBP_RUN;
}

/**
 * Builds the strategy `config.strategy` names.
 * @throws PatchcertError `INVALID_OPTION` when no definition is registered for the type.
 */
export async function createStrategy(params: StrategyConfig, ctx: StrategyBuildContext): Promise<MarginStrategy> {
  return definitionOf(params, 'createStrategy').create(params as never, ctx);
}
