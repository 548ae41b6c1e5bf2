// Whether this engine runs WebAssembly relaxed SIMD, which patchcert's module uses for fused
// multiply-adds in its conv loops (assembly/lanes.ts' madd). Chrome 114+, Firefox 120+ and
// Node 22+ have it on; Node 20's V8 (11.3) has it behind --experimental-wasm-relaxed-simd, which
// initBackend turns on there (env.relaxedSimd), as a command-line flag would.
import { WebAssemblyApi } from './wasm-memory.js';

/** (func (param v128 v128 v128) (result v128) f32x4.relaxed_madd): valid only with relaxed SIMD. */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) → v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get ×3, f32x4.relaxed_madd
]);

/** The probe's verdict, kept: kernels ask on every call. {@link enableRelaxedSimd} asks again. */
let available: boolean | undefined;

/** True when the engine compiles relaxed-SIMD modules now. */
export function relaxedSimdAvailable(): boolean {
  if (available !== undefined) return available;
  const api = WebAssemblyApi as unknown as { validate?: (bytes: Uint8Array) => boolean } | undefined;
  try {
    available = api?.validate?.(PROBE) ?? false;
  } catch {
    available = false;
  }
  return available;
}

/**
 * On Node, turns on V8's relaxed-SIMD flag when the engine has the feature but not enabled
 * (Node 20); elsewhere, or where the flag does not take, nothing changes. Returns
 * {@link relaxedSimdAvailable} afterwards.
 */
export async function enableRelaxedSimd(): Promise<boolean> {
  if (relaxedSimdAvailable()) return true;
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  if (node === undefined) return false;
  try {
    const v8 = await import('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  available = undefined;
  return relaxedSimdAvailable();
}
