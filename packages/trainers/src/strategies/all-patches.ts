import type { tf } from '@patchcert/backend';
import type { BoundMethod, MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import { worstMargins, type Threat } from '../internal/bounds-api.js';
import { threatOf } from '../internal/threat-of.js';

/**
 * All-patch certificate training: the worst case over every patch location (reference
 * `patch-all`), through bounds' fast path. The tightest and slowest strategy.
 *
 * @param threat - the patch threat; when omitted, the context's.
 * @param options.method - bounds' method. @defaultValue 'fast'
 */
export function allPatches(threat?: Threat, options: { method?: BoundMethod } = {}): MarginStrategy {
  const method = options.method ?? 'fast';
  return {
    name: 'all',
    margins(ctx: MarginStrategyContext): tf.Tensor2D {
      const t = threatOf(threat, ctx, 'allPatches');
      return worstMargins(ctx.model, ctx.images, ctx.labels, t, { locations: 'all', eps: ctx.eps, method });
    },
  };
}
