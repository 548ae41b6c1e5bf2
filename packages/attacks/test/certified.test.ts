// Soundness from the outside: no attack may break an image that bounds' certify certified.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import { certify, squarePatch, shapePatch, sparsePixels } from '@patchcert/bounds';
import type { SequentialModel } from '@patchcert/models';
import { patchAttack, sparseAttack } from '@patchcert/attacks';
import { trainedMlp, mnist } from './helpers.js';

interface Ctx {
  model: SequentialModel;
  x: tf.Tensor4D;
  y: Int32Array;
}

const count = (a: Uint8Array): number => a.reduce((s, v) => s + v, 0);

const certified = suite<Ctx>('patchAttack vs certify');

certified.before(async (ctx) => {
  await initBackend('wasm');
  // A plainly trained MLP: IBP certifies about two thirds of MNIST test images for a 2x2 patch.
  ctx.model = await trainedMlp();
  const d = await mnist('test', 20);
  ctx.x = d.x;
  ctx.y = d.y;
});

certified.after((ctx) => {
  ctx.model.dispose();
  ctx.x.dispose();
});

certified('should never break a certified image at any 2x2 location', ({ model, x, y }) => {
  const cert = certify(model, x, y, squarePatch(2));
  assert.ok(count(cert.certified) >= 8, `only ${count(cert.certified)} certified`);
  const r = patchAttack(model, x, y, { threat: squarePatch(2), placement: 'all', steps: 10, seed: 1 });
  cert.certified.forEach((c, i) => {
    if (c) assert.is(r.success[i], 0, `certified image ${i} was broken at ${r.location[2 * i]},${r.location[2 * i + 1]}`);
  });
  // The attack is not vacuous: it breaks some image the certificate left open.
  assert.ok(count(r.success) > 0, 'the exhaustive attack broke nothing');
  assert.ok(r.adversarialAccuracy >= count(cert.certified) / 20, 'empirical accuracy is at least certified accuracy');
  r.adversarial.dispose();
});

certified('should never break a certified image with a shaped patch at any location', ({ model, x, y }) => {
  const mask = [[1, 1, 0], [0, 1, 1]];
  const cert = certify(model, x, y, shapePatch(mask));
  const r = patchAttack(model, x, y, { threat: shapePatch(mask), placement: 'all', steps: 8, seed: 2 });
  cert.certified.forEach((c, i) => {
    if (c) assert.is(r.success[i], 0, `certified image ${i}`);
  });
  assert.ok(count(cert.certified) > 0);
  r.adversarial.dispose();
});

certified('should never break an image certified against k sparse pixels', ({ model, x, y }) => {
  const k = 2;
  const cert = certify(model, x, y, sparsePixels(k));
  const r = sparseAttack(model, x, y, { k, restarts: 10, steps: 30, seed: 3 });
  cert.certified.forEach((c, i) => {
    if (c) assert.is(r.success[i], 0, `certified image ${i}`);
  });
  assert.ok(count(cert.certified) > 0);
  r.adversarial.dispose();
});

certified.run();
