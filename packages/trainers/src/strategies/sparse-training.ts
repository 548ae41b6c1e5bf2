import { PatchcertError, type tf } from '@patchcert/backend';
import type { MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import { worstMargins, type Threat } from '../internal/bounds-api.js';
import { threatOf } from '../internal/threat-of.js';

/**
 * Sparse certificate training (reference `sparse-interval`, §9): any k pixels may change; only
 * the first affine layer's bound differs (epŝ times the top-k |W| sum), later layers are plain
 * IBP.
 *
 * @param threat - a sparse threat (k pixels); when omitted, the context's.
 */
export function sparseTraining(threat?: Threat): MarginStrategy {
  return {
    name: threat && threat.kind === 'sparse' ? `sparse(${threat.k})` : 'sparse',
    margins(ctx: MarginStrategyContext): tf.Tensor2D {
      const t = threatOf(threat, ctx, 'sparseTraining');
      if (t.kind !== 'sparse') throw new PatchcertError('INVALID_OPTION', `Error in sparseTraining: the threat must be sparse, but got a ${t.kind} threat.`);
      return worstMargins(ctx.model, ctx.images, ctx.labels, t, { eps: ctx.eps });
    },
  };
}
