// Patchcert's own WebAssembly SIMD loops, run directly on tfjs-backend-wasm's memory. A JavaScript
// loop over the heap costs ~12 ns per element on the development machine (typed-array access and
// unpredictable branches), more than the 8 stock SIMD ops it would replace; these loops read each
// input once with 4-lane float32 SIMD and no branches. The module is small enough to write out
// as bytes here (no toolchain in the build), is instantiated once against tfjs's own
// WebAssembly.Memory (imported, so no copies; declared shared for the threaded build), and returns
// undefined where that memory is not reachable (another tfjs version): the kernels then use their JS loops.
import type { WasmBackend } from './wasm-backend.js';

/** The SIMD loops; every pointer is a byte offset, `bytes` a multiple of 16. */
export interface SimdLoops {
  /** PcIntervalRelu on `bytes / 4` floats: (mu, r) → (outMu, outR). */
  intervalRelu(mu: number, r: number, outMu: number, outR: number, bytes: number): void;
  /** PcIntervalReluGrad on `bytes / 4` floats: (mu, r, dMu, dR) → (gMu, gR). */
  intervalReluGrad(mu: number, r: number, dMu: number, dR: number, gMu: number, gR: number, bytes: number): void;
}

// #region a minimal WebAssembly assembler (only what these loops use)
const I32 = 0x7f;
const V128 = 0x7b;
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const simd = (op: number) => (op < 0x80 ? [0xfd, op] : [0xfd, (op & 0x7f) | 0x80, op >> 7]);
const load = [...simd(0x00), 0x00, 0x00]; // v128.load align=1 offset=0
const store = [...simd(0x0b), 0x00, 0x00]; // v128.store
const f32x4 = { gt: simd(0x44), and: simd(0x4e), add: simd(0xe4), sub: simd(0xe5), mul: simd(0xe6), max: simd(0xe9) };
function splat(v: number): number[] {
  const b = new Uint8Array(16);
  const f = new Float32Array(b.buffer);
  f.fill(v);
  return [...simd(0x0c), ...b];
}
const i32Add = 0x6a;
/** `load(base + i)` where local `i` is the byte index. */
const loadAt = (base: number, i: number) => [...get(base), ...get(i), i32Add, ...load];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
/**
 * A function body: `for (i = 0; i < bytes; i += 16) body`, with `locals` declared as
 * [count, type] runs; `i` and `bytes` are locals too.
 */
function loopBody(locals: [number, number][], i: number, bytes: number, body: number[]): number[] {
  const code = [
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...get(i), ...get(bytes), 0x4f, 0x0d, 0x01, // if (i >= bytes) break (i32.ge_u; br_if 1)
    ...body,
    ...get(i), 0x41, 0x10, i32Add, ...set(i), // i += 16
    0x0c, 0x00, // continue
    0x0b, 0x0b, 0x0b, // end loop, end block, end function
  ];
  const full = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code];
  return [...uleb(full.length), ...full];
}
// #endregion

function moduleBytes(shared: boolean): Uint8Array {
  const zero = splat(0);
  const half = splat(0.5);
  // relu(mu, r, om, or, bytes): locals i=5, m=6, s=7, l=8, u=9.
  const relu = loopBody([[1, I32], [4, V128]], 5, 4, [
    ...loadAt(0, 5), ...set(6),
    ...loadAt(1, 5), ...set(7),
    ...get(6), ...get(7), ...f32x4.sub, ...zero, ...f32x4.max, ...set(8),
    ...get(6), ...get(7), ...f32x4.add, ...zero, ...f32x4.max, ...set(9),
    ...get(2), ...get(5), i32Add, ...get(9), ...get(8), ...f32x4.add, ...half, ...f32x4.mul, ...store,
    ...get(3), ...get(5), i32Add, ...get(9), ...get(8), ...f32x4.sub, ...half, ...f32x4.mul, ...store,
  ]);
  // grad(mu, r, dmu, dr, gmu, gr, bytes): locals i=7, m=8, s=9, a=10, b=11, gu=12, gl=13.
  const grad = loopBody([[1, I32], [6, V128]], 7, 6, [
    ...loadAt(0, 7), ...set(8),
    ...loadAt(1, 7), ...set(9),
    ...loadAt(2, 7), ...half, ...f32x4.mul, ...set(10),
    ...loadAt(3, 7), ...half, ...f32x4.mul, ...set(11),
    // Masks of μ+r > 0 and μ−r > 0 (relu's gradient is 0 at exactly 0).
    ...get(10), ...get(11), ...f32x4.add, ...get(8), ...get(9), ...f32x4.add, ...zero, ...f32x4.gt, ...f32x4.and, ...set(12),
    ...get(10), ...get(11), ...f32x4.sub, ...get(8), ...get(9), ...f32x4.sub, ...zero, ...f32x4.gt, ...f32x4.and, ...set(13),
    ...get(4), ...get(7), i32Add, ...get(12), ...get(13), ...f32x4.add, ...store,
    ...get(5), ...get(7), i32Add, ...get(12), ...get(13), ...f32x4.sub, ...store,
  ]);
  const types = vec([
    [0x60, ...vec(Array.from({ length: 5 }, () => [I32])), 0x00],
    [0x60, ...vec(Array.from({ length: 7 }, () => [I32])), 0x00],
  ]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    // Memory limits: unshared min 0, or (threaded build) shared min 0, max 4 GiB in pages.
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...(shared ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00])]])),
    ...section(3, vec([[0x00], [0x01]])),
    ...section(7, vec([[...name('relu'), 0x00, 0x00], [...name('relu_grad'), 0x00, 0x01]])),
    ...section(10, vec([relu, grad])),
  ];
  return Uint8Array.from(bytes);
}

/** The part of the WebAssembly API used here (the build's lib has no WebAssembly types). */
export interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
export const WebAssemblyApi = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

const instances = new WeakMap<object, SimdLoops | null>();

/** The memory of tfjs-backend-wasm's Emscripten module, if reachable, and whether it is shared (threaded build). */
export function wasmMemory(backend: WasmBackend): { memory: object; shared: boolean } | undefined {
  const module = (backend as unknown as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } }).wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  if (WebAssemblyApi === undefined || !(memory instanceof WebAssemblyApi.Memory)) return undefined;
  return { memory, shared: typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer };
}

/** The SIMD loops bound to `backend`'s memory, or undefined when they cannot run there. */
export function simdLoops(backend: WasmBackend): SimdLoops | undefined {
  const module = (backend as unknown as { wasm?: object }).wasm;
  if (module === undefined) return undefined;
  const known = instances.get(module);
  if (known !== undefined) return known ?? undefined;
  let loops: SimdLoops | null = null;
  try {
    const found = wasmMemory(backend);
    if (found !== undefined && WebAssemblyApi !== undefined) {
      const instance = new WebAssemblyApi.Instance(new WebAssemblyApi.Module(moduleBytes(found.shared)), { env: { memory: found.memory } });
      const ex = instance.exports as unknown as { relu: SimdLoops['intervalRelu']; relu_grad: SimdLoops['intervalReluGrad'] };
      loops = { intervalRelu: ex.relu, intervalReluGrad: ex.relu_grad };
    }
  } catch {
    // No SIMD in this engine, or a memory we cannot import: the JS loops run instead.
    loops = null;
  }
  instances.set(module, loops);
  return loops ?? undefined;
}
