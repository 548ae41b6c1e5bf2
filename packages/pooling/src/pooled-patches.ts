import { PatchcertError, type tf } from '@patchcert/backend';
import { pooledWorstMargins, type BoundMethod, type MarginStrategy, type MarginStrategyContext, type PatchThreat } from '@patchcert/bounds';
import { parsePoolSpec, poolSpecName, type PoolSpecLike } from './pool-spec.js';

/** Options of {@link pooledPatches}. */
export interface PooledPatchesOptions {
  /** Block sizes per layer index (`[2]`, `[4]`, `[2, 1, 2]`) or a name (`'pool2'`, `'pool2-2'`). */
  pool: PoolSpecLike;
  /** The patch threat; when omitted, the training context's. */
  threat?: PatchThreat;
  /** bounds' method. @defaultValue 'fast' */
  method?: BoundMethod;
}

/**
 * Bound-pooled certificate training (reference `patch-all-pool`, paper A.3): the worst case over
 * every location, with the bounds of adjacent locations pooled after the listed layers. Cheaper
 * than all-patch for the layers after the first pooling, and a sound (looser) bound.
 *
 * @returns a {@link MarginStrategy} for the trainer (type `pooled`).
 * @throws PatchcertError `INVALID_OPTION` (at `margins`) without a patch threat or with a bad spec.
 * @example
 * const strategy = pooledPatches({ pool: [2, 1, 2], threat: squarePatch(2) });
 */
export function pooledPatches(options: PooledPatchesOptions): MarginStrategy {
  if (options === null || typeof options !== 'object' || options.pool === undefined) {
    throw new PatchcertError('INVALID_OPTION', `Error in pooledPatches: options must be an object with pool, but got ${JSON.stringify(options)}.`);
  }
  const method = options.method ?? 'fast';
  const name = typeof options.pool === 'string' ? options.pool : poolSpecName(options.pool);
  return {
    name,
    margins(ctx: MarginStrategyContext): tf.Tensor2D {
      const threat = options.threat ?? ctx.threat;
      if (!threat || threat.kind !== 'patch') {
        throw new PatchcertError('INVALID_OPTION', `Error in pooledPatches: threat must be a patch threat (in the options or the context), but got ${threat ? threat.kind : 'none'}.`);
      }
      const pool = parsePoolSpec(options.pool, ctx.model);
      return pooledWorstMargins(ctx.model, ctx.images, ctx.labels, threat, { pool, eps: ctx.eps, method });
    },
  };
}
