import * as assert from 'uvu/assert';
import { PatchcertError } from '@patchcert/backend';
import { loadModel } from '@patchcert/models';

/** Asserts that `fn` throws (or rejects with) a PatchcertError with `code`; returns it. */
export async function throwsCode(fn: () => unknown, code: string): Promise<PatchcertError> {
  try {
    await fn();
  } catch (e) {
    assert.instance(e, PatchcertError, `expected a PatchcertError, got ${String(e)}`);
    assert.is((e as PatchcertError).code, code, (e as Error).message);
    assert.match((e as Error).message, /^Error in \w+/);
    return e as PatchcertError;
  }
  assert.unreachable(`expected a PatchcertError ${code}`);
  throw new Error('unreachable');
}

/** Asserts |a − b| ≤ tol (absolute) for numbers or arrays. */
export function assertClose(a: ArrayLike<number> | number, b: ArrayLike<number> | number, tol: number, msg = ''): void {
  const xs = typeof a === 'number' ? [a] : Array.from(a);
  const ys = typeof b === 'number' ? [b] : Array.from(b);
  assert.is(xs.length, ys.length, `${msg} length`);
  xs.forEach((x, i) => {
    if (!(Math.abs(x - ys[i]!) <= tol)) assert.unreachable(`${msg} [${i}] ${x} vs ${ys[i]} (tol ${tol})`);
  });
}

/** The trainable weights of the model saved in `dir`, to compare two runs exactly. */
export async function weights(dir: string): Promise<number[][]> {
  const m = await loadModel(dir);
  const w = m.trainableVariables().map((v) => Array.from(v.dataSync()));
  m.dispose();
  return w;
}
