import { initBackend, tf } from '@patchcert/backend';

export { throwsCode } from '@patchcert/backend/testing';

/**
 * Starts wasm when it can train convolutions (patchcert's Conv2DBackpropFilter kernel is
 * registered), else cpu, so the U-Net's training tests run before and after that kernel lands.
 */
export async function initTrainingBackend(): Promise<string> {
  await initBackend('wasm');
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) await initBackend('cpu');
  return tf.getBackend();
}

/** Pearson correlation of two equally long arrays. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}
