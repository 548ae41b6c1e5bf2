// patchcert's compiled wasm module: the committed bytes are what assembly/ compiles to (so the
// source and the shipped module cannot drift apart), and the module instantiates against the
// running tfjs-backend-wasm's memory (else its kernels would quietly run their JS loops).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { initBackend, tf } from '@patchcert/backend';
// @ts-expect-error: a plain .mjs build script without types
import { generatedSource } from '../scripts/build-wasm.mjs';
import { patchcertWasm, usesRelaxedSimd } from '../src/kernels/wasm/patchcert-module.js';
import { relaxedSimdAvailable } from '../src/kernels/wasm/relaxed-simd.js';
import { env, describeBackend } from '@patchcert/backend';
import type { WasmBackend } from '../src/kernels/wasm/wasm-backend.js';

const m = suite('patchcert wasm module');

m('the committed module should be what assembly/ compiles to (else run node scripts/build-wasm.mjs)', async () => {
  const committed = readFileSync(new URL('../src/kernels/wasm/generated/patchcert-wasm.ts', import.meta.url), 'utf8');
  const compiled: string = await generatedSource();
  assert.ok(committed === compiled, 'src/kernels/wasm/generated/patchcert-wasm.ts differs from a fresh compile of assembly/');
});

m('should instantiate against the wasm backend memory and export every loop', async () => {
  await initBackend('wasm');
  const module = patchcertWasm(tf.backend() as WasmBackend);
  assert.ok(module !== undefined, 'module did not instantiate');
  for (const name of ['intervalRelu', 'intervalReluGrad', 'reluElidedMargins', 'windowSums', 'conv2dBackpropFilter', 'sumLeading'] as const) {
    assert.type(module![name], 'function', `export ${name}`);
  }
});

m('should run the relaxed-SIMD build on Node 20 (initBackend turns the V8 flag on) and the plain one when env.relaxedSimd is off', async () => {
  const info = await initBackend('wasm');
  const backend = tf.backend() as WasmBackend;
  assert.ok(relaxedSimdAvailable(), 'relaxed SIMD must be available after initBackend on this Node');
  assert.ok(info.fma, 'BackendInfo.fma');
  assert.match(describeBackend(info), /simd=on fma=on/);
  const relaxed = patchcertWasm(backend);
  assert.ok(usesRelaxedSimd(backend));
  env.relaxedSimd = false;
  try {
    const plain = patchcertWasm(backend);
    assert.ok(plain !== undefined && plain !== relaxed, 'a separate plain-SIMD instance');
    assert.not.ok(usesRelaxedSimd(backend));
    assert.type(plain!.conv2dDirect, 'function');
  } finally {
    env.relaxedSimd = true;
  }
});

m.run();
