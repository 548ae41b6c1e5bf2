import { PatchcertError } from './errors.js';

/** Serializable state of an {@link Rng}; store it in checkpoints to resume a stream exactly. */
export interface RngState {
  s: [number, number, number, number];
}

/**
 * The one seeded random generator of patchcert (xoshiro128**, 32-bit). Every random choice
 * (shuffling, augmentation, patch locations, init) draws from an instance of it, so a run with
 * the same seed gives the same result and a checkpoint can save and restore the stream.
 */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new PatchcertError('INVALID_ARGUMENT', `Error in Rng: seed must be a finite number, but got ${seed}.`);
    }
    // splitmix32 expands the seed so nearby seeds give unrelated streams.
    this.s = new Uint32Array(4);
    let x = (Math.floor(seed) >>> 0) ^ 0x9e3779b9;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.s[0]! | this.s[1]! | this.s[2]! | this.s[3]!) === 0) this.s[0] = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /**
   * Fills `out` with the next `out.length` values of {@link nextU32}, in order: the same stream,
   * with the state kept in locals instead of read and written per draw (bulk draws, such as one
   * Gumbel key per cell in guided sampling, take about half the time).
   */
  fillU32(out: Uint32Array): Uint32Array {
    const s = this.s;
    let s0 = s[0]!;
    let s1 = s[1]!;
    let s2 = s[2]!;
    let s3 = s[3]!;
    for (let i = 0; i < out.length; i++) {
      out[i] = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return out;
  }

  /** A float uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A float uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** An integer uniform in [0, n). */
  int(n: number): number {
    if (!(n >= 1)) throw new PatchcertError('INVALID_ARGUMENT', `Error in Rng.int: n must be >= 1, but got ${n}.`);
    return Math.floor(this.next() * n);
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `a` in place (Fisher–Yates) and returns it. */
  shuffle<T extends { length: number; [i: number]: unknown }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** A 31-bit seed for a child generator or a tfjs op that takes a seed. */
  seed(): number {
    return this.nextU32() >>> 1;
  }

  getState(): RngState {
    return { s: [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!] };
  }

  setState(state: RngState): void {
    if (!state || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new PatchcertError('INVALID_ARGUMENT', 'Error in Rng.setState: state.s must be an array of 4 uint32 values.');
    }
    for (let i = 0; i < 4; i++) this.s[i] = state.s[i]! >>> 0;
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
