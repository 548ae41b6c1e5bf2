// Access to tfjs-backend-wasm's WebAssembly memory, which patchcert's compiled module imports so
// that its loops read and write tensors in place (see patchcert-module.ts).
import type { WasmBackend } from './wasm-backend.js';

/** The part of the WebAssembly API used here (the build's lib has no WebAssembly types). */
export interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBufferLike };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}
export const WebAssemblyApi = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** The memory of tfjs-backend-wasm's Emscripten module, if reachable, and whether it is shared (threaded build). */
export function wasmMemory(backend: WasmBackend): { memory: object; shared: boolean } | undefined {
  const module = (backend as unknown as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } }).wasm;
  const memory = module?.asm?.memory ?? module?.wasmMemory;
  if (WebAssemblyApi === undefined || !(memory instanceof WebAssemblyApi.Memory)) return undefined;
  return { memory, shared: typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer };
}
