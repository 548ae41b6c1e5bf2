// AssemblyScript source of PcGatherRuns' wasm loop (see relu-elided-margins.ts for the setting).

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

/**
 * Copies runs of floats from the sources into `out`, one after another: run q (`meta[q]` =
 * source, float offset, length, zeros before it) copies `len` floats of source `src` from
 * `off`, after `skip` zeros; the output ends with zeros up to `size` floats. A certify pass of
 * the 4-layer CNN copies ~40,000 runs per image, a third of them under 16 floats: per run, the
 * JavaScript loop's call and checks cost more than the copy.
 *
 * `srcBases` / `srcFloats`: int32 byte offset and float count of each of the `nSrc` sources.
 *
 * @returns -1, or the first run that reads outside its source or writes past `size` (nothing is
 *   promised about the output then; the caller throws).
 */
export function gatherRuns(meta: usize, count: i32, srcBases: usize, srcFloats: usize, nSrc: i32, out: usize, size: i32): i32 {
  const end = out + (<usize>size << 2);
  let o = out;
  for (let q = 0; q < count; q++) {
    const m = meta + (<usize>q << 4);
    const s = load<i32>(m);
    const off = load<i32>(m, 4);
    const len = load<i32>(m, 8);
    const skip = load<i32>(m, 12);
    if (s < 0 || s >= nSrc || off < 0 || len < 0 || skip < 0) return q;
    if (<i64>off + <i64>len > <i64>load<i32>(srcFloats + (<usize>s << 2))) return q;
    const zeros = <usize>skip << 2;
    const bytes = <usize>len << 2;
    if (o + zeros + bytes > end) return q;
    if (zeros > 0) memory.fill(o, 0, zeros);
    o += zeros;
    const from = <usize>load<i32>(srcBases + (<usize>s << 2)) + (<usize>off << 2);
    if (len >= 256) {
      memory.copy(o, from, bytes);
    } else {
      // Runs under 256 floats inline: memory.copy is a call into the runtime (~20 ns).
      let i: usize = 0;
      for (; i + 16 <= bytes; i += 16) v128.store(o + i, v128.load(from + i));
      for (; i < bytes; i += 4) store<f32>(o + i, load<f32>(from + i));
    }
    o += bytes;
  }
  if (o < end) memory.fill(o, 0, end - o);
  return -1;
}
