import { initBackend, tf } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import { loadDataset, datasetTensors } from '@patchcert/datasets';
import { worstMargins, squarePatch } from '@patchcert/bounds';
await initBackend('wasm');
const ds = await loadDataset('mnist', { split: 'train', limit: 32 });
const { x, y } = datasetTensors(ds);
for (const arch of ['mlp', 'cnn-4layer'] as const) {
const model = buildModel(arch, { inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
for (const method of ['fast', 'naive'] as const) {
  for (const grad of [false, true]) {
    const f = () => worstMargins(model, x, y, squarePatch(2), { locations: 'all', eps: 1, method });
    const t0 = performance.now();
    if (grad) { const { value, grads } = tf.variableGrads(() => tf.mean(f()) as tf.Scalar, model.trainableVariables()); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); }
    else { const m = f(); m.dataSync(); m.dispose(); }
    console.log(arch, method, grad ? 'grad' : 'fwd', (performance.now() - t0).toFixed(0), 'ms / 32 images');
  }
}
}
