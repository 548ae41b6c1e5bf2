import { initBackend, tf, Rng } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import { loadDataset, datasetTensors } from '@patchcert/datasets';
import { worstMargins, squarePatch } from '@patchcert/bounds';
import { worstMargins as naive } from './naive.tmp.ts';
await initBackend('wasm');
const ds = await loadDataset('mnist', { split: 'train', limit: 128 });
const { x, y } = datasetTensors(ds);
const model = buildModel('mlp', { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
const rng = new Rng(1);
const locs = Int32Array.from({ length: 128 * 10 }, () => rng.int(729));
for (const [name, f] of [['bounds', () => worstMargins(model, x, y, squarePatch(2), { locations: locs, eps: 1 })], ['bounds-naive', () => worstMargins(model, x, y, squarePatch(2), { locations: locs, eps: 1, method: 'naive' })], ['naive', () => naive(model, x, y, { kind: 'patch', height: 2, width: 2 }, { locations: locs, eps: 1 })]] as const) {
  for (const grad of [false, true]) {
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) {
      if (grad) { const { value, grads } = tf.variableGrads(() => tf.mean(f() as tf.Tensor) as tf.Scalar, model.trainableVariables()); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); }
      else { const m = (f as () => tf.Tensor)(); m.dataSync(); m.dispose(); }
    }
    console.log(name, grad ? 'grad' : 'fwd', ((performance.now() - t0) / 3).toFixed(0), 'ms');
  }
}
