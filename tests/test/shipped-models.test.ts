import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initBackend } from '@patchcert/backend';
import { readShippedModel, certifySubset } from '@patchcert/tests';

const REPO = resolve(new URL('../..', import.meta.url).pathname);
const MODELS = join(REPO, 'models');
// A verdict may differ from the stored one only where the stored worst margin sits this close to 0
// (float reassociation across backends and versions), never elsewhere.
const MARGIN_SLACK = 1e-3;

const shipped = suite('shipped models');

shipped.before(async () => {
  await initBackend('wasm');
});

const dirs = existsSync(MODELS)
  ? readdirSync(MODELS).filter((n) => !n.startsWith('.') && existsSync(join(MODELS, n, 'reference.json')))
  : [];

shipped('should ship at least one trained model', () => {
  assert.ok(dirs.length >= 1, `models/ holds ${dirs.length} shipped models`);
});

for (const name of dirs) {
  shipped(`[${name}] should re-certify its recorded test images as recorded`, async () => {
    const { model, config, reference } = await readShippedModel(join(MODELS, name));
    const got = await certifySubset(model, config, reference.subset.images, reference.subset.sampleSeed);
    let flips = 0;
    for (let i = 0; i < reference.subset.images; i++) {
      assert.is(got.correct[i], reference.subset.correct[i], `image ${i} clean verdict`);
      if (got.certified[i] !== reference.subset.certified[i]) {
        flips++;
        assert.ok(Math.abs(reference.subset.worstMargin[i]!) < MARGIN_SLACK, `image ${i}: certified ${got.certified[i]} vs stored ${reference.subset.certified[i]} with margin ${reference.subset.worstMargin[i]}`);
      }
      assert.ok(Math.abs(got.worstMargin[i]! - reference.subset.worstMargin[i]!) <= 1e-3 * Math.max(1, Math.abs(reference.subset.worstMargin[i]!)), `image ${i} worst margin`);
    }
    assert.ok(flips <= 1, `${flips} verdicts changed`);
    // The stored full-test figures must be consistent with the subset (same model, same data).
    const subsetCert = got.certified.reduce((s, v) => s + v, 0) / reference.subset.images;
    assert.ok(Math.abs(subsetCert - reference.fullTest.certifiedAccuracy) < 0.15, `subset certified ${subsetCert} vs full ${reference.fullTest.certifiedAccuracy}`);
    model.dispose();
  });
}

shipped.run();
