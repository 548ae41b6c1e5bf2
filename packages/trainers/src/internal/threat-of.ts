import { PatchcertError } from '@patchcert/backend';
import type { MarginStrategyContext } from '@patchcert/bounds';
import type { Threat } from './bounds-api.js';

/** The threat a strategy bounds: the one it was built with, else the context's. */
export function threatOf(own: Threat | undefined, ctx: MarginStrategyContext, fn: string): Threat {
  const t = own ?? ctx.threat;
  if (!t) throw new PatchcertError('INVALID_ARGUMENT', `Error in ${fn}: a threat must be given to the strategy or in its context, but got none.`);
  return t;
}
