import { assert, type tf } from '@patchcert/backend';
import type { BoundMethod, MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import { worstMargins, threatLocationCount, type Threat } from '../internal/bounds-api.js';
import { threatOf } from '../internal/threat-of.js';

/**
 * Random-patch certificate training (reference `patch-random`, §6.3): for every image k
 * top-left corners drawn i.i.d. uniformly, with replacement, from the run's generator, redrawn
 * every batch; the margins are the worst case over those k locations only.
 *
 * @param k - locations per image (1, 5, 10, 20 in the paper).
 * @param threat - the patch threat; when omitted, the context's.
 * @param options.method - bounds' method (the strategies benchmark compares both). @defaultValue 'fast'
 * @throws PatchcertError `INVALID_OPTION` when k is not a positive integer.
 */
export function randomPatches(k: number, threat?: Threat, options: { method?: BoundMethod } = {}): MarginStrategy {
  const method = options.method ?? 'fast';
  assert(Number.isInteger(k) && k >= 1, () => `Error in randomPatches: k must be an integer >= 1, but got ${k}.`, 'INVALID_OPTION');
  return {
    name: `random(${k})`,
    margins(ctx: MarginStrategyContext): tf.Tensor2D {
      const t = threatOf(threat, ctx, 'randomPatches');
      const [b, h, w] = ctx.images.shape;
      const count = threatLocationCount(t, h, w);
      const locations = new Int32Array(b * k);
      for (let i = 0; i < locations.length; i++) locations[i] = ctx.rng.int(count);
      return worstMargins(ctx.model, ctx.images, ctx.labels, t, { locations, eps: ctx.eps, method });
    },
  };
}
