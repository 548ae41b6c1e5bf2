// AssemblyScript source of the wasm UnsortedSegmentSum's loop (compiled by scripts/build-wasm.mjs
// into src/kernels/wasm/generated/). Pointers are byte offsets into tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { loadLanes, addLanes } from './lanes';

/**
 * out[s, :] = Σ_{i: ids[i] = s} x[i, :] over `count` rows of `row` floats, ids outside
 * [0, segments) dropped (as TensorFlow). `out` ([segments, row]) is overwritten.
 */
export function segmentSum(x: usize, ids: usize, out: usize, count: i32, row: i32, segments: i32): void {
  const rowBytes = <usize>row << 2;
  memory.fill(out, 0, <usize>segments * rowBytes);
  const whole = row & ~3;
  const tail = row & 3;
  for (let i = 0; i < count; i++) {
    const s = load<i32>(ids + (<usize>i << 2));
    if (s < 0 || s >= segments) continue;
    const src = x + <usize>i * rowBytes;
    const dst = out + <usize>s * rowBytes;
    for (let k = 0; k < whole; k += 4) {
      const o = dst + (<usize>k << 2);
      v128.store(o, f32x4.add(v128.load(o), v128.load(src + (<usize>k << 2))));
    }
    if (tail > 0) addLanes(dst + (<usize>whole << 2), loadLanes(src + (<usize>whole << 2), tail), tail);
  }
}
