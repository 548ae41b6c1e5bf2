// Joining typed arrays end to end: the pool's sums send one Float32Array per exchange, and a
// batch's sample is its slices' arrays joined.

/** `parts` end to end in one array made by `make(totalLength)`. */
export function joinArrays<A extends Int32Array | Float32Array>(make: (n: number) => A, parts: readonly ArrayLike<number>[]): A {
  const out = make(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `parts` joined into one Float32Array (what a group sums in one exchange). */
export function joinValues(...parts: ArrayLike<number>[]): Float32Array {
  return joinArrays((n) => new Float32Array(n), parts);
}
