// AssemblyScript source of PcGumbelTopK's loop (compiled by scripts/build-wasm.mjs into
// src/kernels/wasm/generated/). Pointers are byte offsets into tfjs-backend-wasm's memory. The
// same rule as the JavaScript loop in src/kernels/gumbel-top-k.ts, which documents it.

// @ts-nocheck  (AssemblyScript types: usize, f32, f64 …)

/** Draws share a bound when their top 10 bits agree (the host's table has 1024 entries). */
const BUCKET_SHIFT: u32 = 22;
/** As the host loop's slack: lets more cells through to the exact key, never changes a pick. */
const BOUND_SLACK: f64 = 1e-6;

@inline
function gumbelOf(bits: u32): f64 {
  const u = (<f64>bits + 0.5) / 4294967296.0;
  return -Math.log(-Math.log(u));
}

/** Puts (key, cell) into slot `from` or before it, keeping the keys sorted descending. */
@inline
function insertSorted(keys: usize, idx: usize, from: i32, key: f64, cell: i32): void {
  let p = from;
  while (p > 0 && load<f64>(keys + (<usize>(p - 1) << 3)) < key) {
    store<f64>(keys + (<usize>p << 3), load<f64>(keys + (<usize>(p - 1) << 3)));
    store<i32>(idx + (<usize>p << 2), load<i32>(idx + (<usize>(p - 1) << 2)));
    p--;
  }
  store<f64>(keys + (<usize>p << 3), key);
  store<i32>(idx + (<usize>p << 2), cell);
}

/**
 * picks[n, j, 0 … k−1] = the k cells with the largest −temperature·scores[n, cell, j] + Gumbel(word),
 * largest first. Words come from `words` ([batch, classes, cells] u32) or, with `generate`, from
 * xoshiro128** with the state at `state` (4 u32, advanced in place). `table` holds the 1024
 * bucket maxima of the Gumbel draw (f64), `scratch` room for k f64 keys and k i32 cells.
 */
export function gumbelTopK(
  scores: usize, words: usize, state: usize, table: usize, picks: usize, scratch: usize,
  batch: i32, cells: i32, classes: i32, k: i32, temperature: f64, generate: bool,
): void {
  let s0 = load<u32>(state);
  let s1 = load<u32>(state, 4);
  let s2 = load<u32>(state, 8);
  let s3 = load<u32>(state, 12);
  const keys = scratch;
  const idx = scratch + (<usize>k << 3);
  let wp = words;
  let out = picks;
  for (let n = 0; n < batch; n++) {
    const image = scores + (<usize>(n * cells * classes) << 2);
    for (let j = 0; j < classes; j++) {
      let filled = 0;
      let kth = -Infinity;
      let sp = image + (<usize>j << 2);
      const stride = <usize>classes << 2;
      for (let cell = 0; cell < cells; cell++, sp += stride) {
        let bits: u32;
        if (generate) {
          bits = rotl<u32>(s1 * 5, 7) * 9;
          const t = s1 << 9;
          s2 ^= s0;
          s3 ^= s1;
          s1 ^= s2;
          s0 ^= s3;
          s2 ^= t;
          s3 = rotl<u32>(s3, 11);
        } else {
          bits = load<u32>(wp);
          wp += 4;
        }
        const a = -temperature * <f64>load<f32>(sp);
        if (a + load<f64>(table + (<usize>(bits >>> BUCKET_SHIFT) << 3)) + BOUND_SLACK < kth) continue;
        const key = a + gumbelOf(bits);
        if (filled < k) {
          insertSorted(keys, idx, filled++, key, cell);
          if (filled == k) kth = load<f64>(keys + (<usize>(k - 1) << 3));
        } else if (key > kth) {
          insertSorted(keys, idx, k - 1, key, cell);
          kth = load<f64>(keys + (<usize>(k - 1) << 3));
        }
      }
      for (let d = 0; d < k; d++) {
        store<i32>(out, load<i32>(idx + (<usize>d << 2)));
        out += 4;
      }
    }
  }
  store<u32>(state, s0);
  store<u32>(state, s1, 4);
  store<u32>(state, s2, 8);
  store<u32>(state, s3, 12);
}
