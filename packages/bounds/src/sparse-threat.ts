import { assert } from '@patchcert/backend';

/**
 * The sparse threat model (paper §5.3, reference-spec §9): the attacker changes any `k` pixels
 * (all channels of each) anywhere in the image. Only the first affine layer needs a special
 * bound; later layers use plain interval rules.
 */
export class SparseThreat {
  readonly kind = 'sparse' as const;
  readonly name: string;
  /** Number of pixels the attacker may change. */
  readonly k: number;
  /**
   * Which first-layer bound: `false` is the paper's ε̂·top-k(Σ_c|W|) bound; `true` the tighter
   * per-image bound that uses how far each pixel can actually move (never looser, still sound).
   */
  readonly tight: boolean;

  constructor(k: number, tight = false) {
    assert(Number.isInteger(k) && k >= 1, () => `Error in sparsePixels: k must be a positive integer, but got ${k}.`, 'INVALID_OPTION');
    this.k = k;
    this.tight = tight;
    this.name = `sparse k=${k}${tight ? ' (tight)' : ''}`;
  }

  /** One "location": the bound covers every choice of k pixels at once. */
  locations(): number {
    return 1;
  }
}

/**
 * The sparse threat: any `k` pixels may change.
 * @param options.tight - use the tighter per-image first-layer bound. @defaultValue false
 * @throws PatchcertError `INVALID_OPTION` when k < 1 or not an integer.
 */
export function sparsePixels(k: number, options: { tight?: boolean } = {}): SparseThreat {
  return new SparseThreat(k, options.tight ?? false);
}
