import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, describeBackend, tf, PatchcertError, Rng } from '@patchcert/backend';

const init = suite('initBackend');

init('should start wasm with SIMD and report it in one line', async () => {
  const info = await initBackend('wasm');
  assert.is(tf.getBackend(), 'wasm');
  assert.is(info.simd, true);
  assert.match(describeBackend(info), /^backend: wasm .*simd=on/);
});

init('should switch to cpu and back', async () => {
  await initBackend('cpu');
  assert.is(tf.getBackend(), 'cpu');
  await initBackend('wasm');
  assert.is(tf.getBackend(), 'wasm');
});

init('should throw BACKEND_UNAVAILABLE naming the package when tfjs-node is missing', async () => {
  try {
    await initBackend('node');
    assert.unreachable('tfjs-node is not installed here');
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, 'BACKEND_UNAVAILABLE');
    assert.match((e as Error).message, /@tensorflow\/tfjs-node/);
  }
  assert.is(tf.getBackend(), 'wasm');
});

init('should throw INVALID_OPTION for an unknown backend name', async () => {
  try {
    await initBackend('webgl');
    assert.unreachable();
  } catch (e) {
    assert.is((e as PatchcertError).code, 'INVALID_OPTION');
  }
});

init.run();

// ---

const rng = suite('Rng');

rng('should repeat a stream for the same seed and resume from saved state', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 10; i++) assert.is(a.nextU32(), b.nextU32());
  const state = a.getState();
  const x = [a.next(), a.next()];
  const c = Rng.fromState(state);
  assert.equal([c.next(), c.next()], x);
});

rng('should fill in bulk exactly the values nextU32 would draw, and continue the same stream', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  a.nextU32();
  b.nextU32();
  const bulk = a.fillU32(new Uint32Array(1000));
  for (let i = 0; i < bulk.length; i++) assert.is(bulk[i], b.nextU32(), `draw ${i}`);
  assert.equal(a.getState(), b.getState());
  assert.is(a.nextU32(), b.nextU32());
  assert.is(a.fillU32(new Uint32Array(0)).length, 0);
  assert.equal(a.getState(), b.getState());
});

rng('should draw uniform integers with the right mean', () => {
  const r = new Rng(1);
  let s = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) s += r.int(10);
  assert.ok(Math.abs(s / n - 4.5) < 0.1, `mean ${s / n}`);
});

rng.run();
