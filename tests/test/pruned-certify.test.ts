// certify's branch and bound over location blocks (`prune: true`) against its full loop
// (`prune: false`) on shipped models and real test images: trained weights give the spread of
// per-image candidate counts that random models on a few images do not (a grouping bug that
// dropped locations showed only beyond a few hundred MNIST images).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join, resolve } from 'node:path';
import { initBackend, tf } from '@patchcert/backend';
import { certify, squarePatch } from '@patchcert/bounds';
import { datasetTensors, loadDataset } from '@patchcert/datasets';
import { readShippedModel } from '@patchcert/tests';

const MODELS = join(resolve(new URL('../..', import.meta.url).pathname), 'models');

const pruned = suite('pruned certify on shipped models');

pruned.before(async () => {
  await initBackend('wasm');
});

for (const [name, images] of [['mnist-mlp-p22-all-finetune', 2000], ['mnist-cnn4-p22-random10', 96]] as const) {
  pruned(`[${name}] should give the full loop's verdicts and worst cases on ${images} MNIST test images`, async () => {
    const { model } = await readShippedModel(join(MODELS, name));
    const { x, y } = datasetTensors(await loadDataset('mnist', { split: 'test', limit: images }));
    const labels = Int32Array.from(y.dataSync());
    // prune: true prunes every batch (the default gives up where pruning cannot pay, and is off
    // for the MLP, whose locations are too cheap for it).
    const fast = certify(model, x as tf.Tensor4D, labels, squarePatch(2), { prune: true });
    const full = certify(model, x as tf.Tensor4D, labels, squarePatch(2), { prune: false });
    for (let i = 0; i < images; i++) {
      const at = `image ${i}`;
      assert.is(fast.certified[i], full.certified[i], `${at} certified`);
      assert.is(fast.correct[i], full.correct[i], `${at} correct`);
      assert.is(fast.worstLocation[i], full.worstLocation[i], `${at} worst location (margin ${fast.worstMargin[i]} vs ${full.worstMargin[i]})`);
      assert.is(fast.worstClass[i], full.worstClass[i], `${at} worst class`);
      assert.ok(Math.abs(fast.worstMargin[i]! - full.worstMargin[i]!) <= 1e-5 * Math.max(1, Math.abs(full.worstMargin[i]!)), `${at} worst margin ${fast.worstMargin[i]} vs ${full.worstMargin[i]}`);
    }
    tf.dispose([x, y]);
    model.dispose();
  });
}

pruned.run();
