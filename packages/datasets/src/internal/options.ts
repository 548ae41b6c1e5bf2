/**
 * Merges `options` over `defaults`, skipping fields the caller set to `undefined` (so
 * `{ split: undefined }` means "the default", as it would when left out).
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as D & O;
}
