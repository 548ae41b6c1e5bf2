// Registers patchcert's wasm kernels: the ones stock tfjs-backend-wasm lacks and the faster
// replacements for slow stock paths. Imported only by initBackend('wasm').

/** Registers every patchcert wasm kernel; safe to call more than once. */
export function registerWasmKernels(): void {
  // Filled in by the backend kernel work (Conv2DBackpropFilter, UnsortedSegmentSum, ...).
}
