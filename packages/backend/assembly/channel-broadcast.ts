// AssemblyScript source of the wasm Add/Sub/Multiply/RealDiv loop for a per-channel operand
// (compiled by scripts/build-wasm.mjs into src/kernels/wasm/generated/). Pointers are byte
// offsets into tfjs-backend-wasm's memory.

// @ts-nocheck  (AssemblyScript types: usize, f32, v128 …)

import { loadLanes, storeLanes } from './lanes';

/** Operation codes, as in src/kernels/wasm/ChannelBroadcast.ts. */
const ADD: i32 = 0;
const SUB: i32 = 1;
const MUL: i32 = 2;
const DIV: i32 = 3;

@inline
function apply(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  return f32x4.div(a, b);
}

/**
 * One operation over `total` floats, the operand repeating with period `period` floats (a
 * multiple of 4: the channel row tiled to lcm(C, 4)) on the right, or on the left when `flip`.
 */
@inline
function flatLoop(op: i32, x: usize, pattern: usize, out: usize, total: i32, period: i32, flip: bool): void {
  const periodBytes = <usize>period << 2;
  const end = x + (<usize>(total & ~3) << 2);
  let p: usize = 0;
  let o = out;
  for (let a = x; a < end; a += 16) {
    const v = v128.load(a);
    const c = v128.load(pattern + p);
    v128.store(o, flip ? apply(op, c, v) : apply(op, v, c));
    o += 16;
    p += 16;
    if (p == periodBytes) p = 0;
  }
  const tail = total & 3;
  if (tail > 0) {
    const v = loadLanes(end, tail);
    const c = loadLanes(pattern + p, tail);
    storeLanes(o, flip ? apply(op, c, v) : apply(op, v, c), tail);
  }
}

/**
 * out[i] = x[i] ∘ pattern[i mod period] (or pattern ∘ x when `flip`) over `total` floats, ∘ one
 * of add, sub, mul, div; `pattern` holds the channel operand tiled to `period` = lcm(C, 4)
 * floats, so every vector of x meets its channels in one load. Literal op codes and order
 * inline the operation out of the loop.
 */
export function channelBroadcast(op: i32, x: usize, pattern: usize, out: usize, total: i32, period: i32, flip: bool): void {
  if (flip) {
    if (op == SUB) flatLoop(SUB, x, pattern, out, total, period, true);
    else if (op == DIV) flatLoop(DIV, x, pattern, out, total, period, true);
    else if (op == ADD) flatLoop(ADD, x, pattern, out, total, period, false);
    else flatLoop(MUL, x, pattern, out, total, period, false);
  } else if (op == ADD) flatLoop(ADD, x, pattern, out, total, period, false);
  else if (op == SUB) flatLoop(SUB, x, pattern, out, total, period, false);
  else if (op == MUL) flatLoop(MUL, x, pattern, out, total, period, false);
  else flatLoop(DIV, x, pattern, out, total, period, false);
}
