import { initBackend, tf, restoreStockWasmKernels, registerWasmKernels } from '@patchcert/backend';
await initBackend('wasm');
function time(f: () => void, n = 7) { f(); const ts: number[] = []; for (let i = 0; i < n; i++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); } ts.sort((a,b)=>a-b); return ts[0]!.toFixed(1) + '/' + ts[Math.floor(n/2)]!.toFixed(1); }
const P: any = [[0,0],[1,1],[1,1],[0,0]];
const x = tf.randomUniform([256,14,14,16]) as tf.Tensor4D, w = tf.randomNormal([4,4,16,32]) as tf.Tensor4D, dy = tf.randomNormal([256,7,7,32]) as tf.Tensor4D;
const run = (k: () => tf.Tensor | tf.Tensor[]) => () => { const r = k(); for (const t of [r].flat()) { t.dataSync(); t.dispose(); } };
const fwd = run(() => tf.conv2d(x, w, 2, P));
const bf = run(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: P, dataFormat: 'NHWC', filterShape: [4,4,16,32] } as any) as tf.Tensor);
const bi = run(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 2, pad: P, dataFormat: 'NHWC', inputShape: [256,14,14,16] } as any) as tf.Tensor);
const step = run(() => tf.tidy(() => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as any, b as any, 2, P), dy)))([x, w])));
for (const mode of ['patched', 'stock', 'patched']) {
  if (mode === 'stock') restoreStockWasmKernels(); else registerWasmKernels();
  console.log(mode, 'fwd', time(fwd), 'filterGrad', time(bf), 'inputGrad', time(bi), 'step', time(step));
}
