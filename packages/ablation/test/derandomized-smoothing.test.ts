import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, Rng, tf } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import {
  bandCount,
  bandMasks,
  bandVotes,
  certifyDerandomizedColumns,
  certifyVoteCounts,
  encodeAblated,
  softVoteLogits,
  type BandKind,
} from '@patchcert/ablation';
import { assertClose, bruteForceBroken, randomImages, throwsCode, tinyModel, votePrediction } from './helpers.js';

const H = 8;
const W = 8;
const CLASSES = 3;

/** Votes of every band computed one band at a time, the slow obvious way. */
function directVotes(model: ReturnType<typeof tinyModel>, images: tf.Tensor4D, kind: BandKind, s: number): number[] {
  const n = images.shape[0];
  const bands = bandCount(kind, H, W);
  const masks = bandMasks(kind, H, W, s);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let b = 0; b < bands; b++) {
      const v = tf.tidy(() => {
        const x = tf.slice(images, [i, 0, 0, 0], [1, H, W, 1]);
        const keep = tf.tensor4d(masks.slice(b * H * W, (b + 1) * H * W), [1, H, W, 1]);
        return tf.argMax(model.predict(encodeAblated(x, keep)), 1).dataSync()[0]!;
      });
      out.push(v);
    }
  }
  return out;
}

const votes = suite('bandVotes');

votes.before(async () => {
  await initBackend('wasm');
});

votes('should give each band the base classifier argmax on the image ablated to that band, in any batch size', () => {
  const model = tinyModel(H, W, 1, CLASSES, 1);
  const x = randomImages(5, H, W, 1, 2);
  for (const kind of ['column', 'block'] as const) {
    const expected = directVotes(model, x, kind, 3);
    for (const batchSize of [1, 17, 4096]) assert.equal(Array.from(bandVotes(model, x, { bandWidth: 3, kind, batchSize })), expected, `${kind} batch ${batchSize}`);
  }
  tf.dispose(x);
  model.dispose();
});

votes('should abstain (−1) where the largest logit is below the threshold and leak no tensors', () => {
  const model = tinyModel(H, W, 1, CLASSES, 1);
  const x = randomImages(3, H, W, 1, 2);
  const before = tf.memory().numTensors;
  const all = bandVotes(model, x, { bandWidth: 2, threshold: 1e9 });
  assert.is(tf.memory().numTensors, before);
  assert.ok(all.every((v) => v === -1));
  const none = bandVotes(model, x, { bandWidth: 2, threshold: -1e9 });
  assert.ok(none.every((v) => v >= 0 && v < CLASSES));
  tf.dispose(x);
  model.dispose();
});

votes('should throw SHAPE_MISMATCH for a model not built for 2C channels', () => {
  const model = buildModel('mlp', { inputShape: [H, W, 1], numClasses: CLASSES, hidden: [4], seed: 0 });
  const x = randomImages(1, H, W, 1, 0);
  throwsCode(() => bandVotes(model, x, { bandWidth: 2 }), 'SHAPE_MISMATCH');
  tf.dispose(x);
  model.dispose();
});

votes.run();

// ---

const certify = suite('certifyDerandomizedColumns');

certify.before(async () => {
  await initBackend('wasm');
});

certify('should certify exactly by the vote-margin rule and never where brute force over every patch position breaks it', () => {
  let certifiedSeen = 0;
  let refusedSeen = 0;
  for (const kind of ['column', 'block'] as const) {
    for (const [seed, s] of [[11, 1], [12, 2], [13, 3]] as [number, number][]) {
      const model = tinyModel(H, W, 1, CLASSES, seed);
      const x = randomImages(12, H, W, 1, seed + 100);
      const labels = Array.from({ length: 12 }, (_, i) => i % CLASSES);
      const patchSizes = kind === 'column' ? [1, 2, 3, 4] : [1];
      const r = certifyDerandomizedColumns(model, x, labels, { bandWidth: s, kind, patchSizes });
      const bands = bandCount(kind, H, W);
      assert.is(r.forwardPassesPerImage, bands);
      const perBand = bandVotes(model, x, { bandWidth: s, kind });
      const masks = bandMasks(kind, H, W, s);
      for (let i = 0; i < 12; i++) {
        const v = perBand.subarray(i * bands, (i + 1) * bands);
        assert.is(r.predicted[i], votePrediction(v, CLASSES));
        assert.is(r.correct[i], r.predicted[i] === labels[i] ? 1 : 0);
        patchSizes.forEach((m, j) => {
          const counts = r.votes.subarray(i * CLASSES, (i + 1) * CLASSES);
          assert.is(r.robust[j]![i], certifyVoteCounts(counts, r.delta[j]!).certified ? 1 : 0);
          assert.is(r.certified[j]![i], r.robust[j]![i]! & r.correct[i]!);
          // Blocks meet up to (m+s−1)² bands: the one-class adversary is exact (vote-certificate test).
          const broken = bruteForceBroken(v, masks, bands, H, W, m, CLASSES, kind === 'column' && m + s - 1 <= 4);
          if (r.robust[j]![i] === 1) {
            certifiedSeen++;
            assert.not.ok(broken, `${kind} s=${s} m=${m} image ${i}: certified but broken`);
          } else refusedSeen++;
        });
      }
      tf.dispose(x);
      model.dispose();
    }
  }
  assert.ok(certifiedSeen > 0 && refusedSeen > 0, `${certifiedSeen} certified, ${refusedSeen} refused`);
});

certify('should keep every certified prediction under real patches of any content at every position', () => {
  const rng = new Rng(5);
  let checked = 0;
  for (const [s, m, seed] of [[1, 1, 21], [2, 2, 23], [3, 2, 25]] as [number, number, number][]) {
    const model = tinyModel(H, W, 1, CLASSES, seed);
    const x = randomImages(10, H, W, 1, seed + 1);
    const r = certifyDerandomizedColumns(model, x, new Array<number>(10).fill(0), { bandWidth: s, patchSizes: [m] });
    const xs = x.arraySync() as number[][][][];
    for (let i = 0; i < 10; i++) {
      if (r.robust[0]![i] !== 1) continue;
      // Every position × contents {0, 1, 3 random fills}, all in one batch.
      const rows: number[][][][] = [];
      for (let r0 = 0; r0 + m <= H; r0++) {
        for (let c0 = 0; c0 + m <= W; c0++) {
          for (const fill of ['zero', 'one', 'rand', 'rand', 'rand']) {
            const img = xs[i]!.map((row) => row.map((px) => px.slice()));
            for (let a = r0; a < r0 + m; a++) for (let b = c0; b < c0 + m; b++) img[a]![b]![0] = fill === 'zero' ? 0 : fill === 'one' ? 1 : rng.next();
            rows.push(img);
          }
        }
      }
      const batch = tf.tensor4d(rows);
      const attacked = certifyDerandomizedColumns(model, batch, new Array<number>(rows.length).fill(0), { bandWidth: s, patchSizes: [m] });
      for (const p of attacked.predicted) assert.is(p, r.predicted[i]);
      batch.dispose();
      checked++;
    }
    tf.dispose(x);
    model.dispose();
  }
  assert.ok(checked > 0, 'some image was certified');
});

certify('should not certify when every band abstains', () => {
  const model = tinyModel(H, W, 1, CLASSES, 1);
  const x = randomImages(2, H, W, 1, 2);
  const r = certifyDerandomizedColumns(model, x, [0, 1], { bandWidth: 2, patchSizes: [1], threshold: 1e9 });
  assert.equal(Array.from(r.votes), [0, 0, 0, 0, 0, 0]);
  assert.equal(Array.from(r.robust[0]!), [0, 0]);
  tf.dispose(x);
  model.dispose();
});

certify('should throw INVALID_OPTION for a patch larger than the image or no patch sizes, INVALID_ARGUMENT for a bad label', () => {
  const model = tinyModel(H, W, 1, CLASSES, 1);
  const x = randomImages(2, H, W, 1, 2);
  throwsCode(() => certifyDerandomizedColumns(model, x, [0, 1], { bandWidth: 2, patchSizes: [9] }), 'INVALID_OPTION');
  throwsCode(() => certifyDerandomizedColumns(model, x, [0, 1], { bandWidth: 2, patchSizes: [] }), 'INVALID_OPTION');
  throwsCode(() => certifyDerandomizedColumns(model, x, [0, 1], { bandWidth: 0, patchSizes: [2] }), 'INVALID_OPTION');
  throwsCode(() => certifyDerandomizedColumns(model, x, [0, 5], { bandWidth: 2, patchSizes: [2] }), 'INVALID_ARGUMENT');
  throwsCode(() => certifyDerandomizedColumns(model, x, [0], { bandWidth: 2, patchSizes: [2] }), 'SHAPE_MISMATCH');
  tf.dispose(x);
  model.dispose();
});

certify.run();

// ---

const soft = suite('softVoteLogits');

soft.before(async () => {
  await initBackend('wasm');
});

soft('should be the log of the mean band softmax and have a nonzero input gradient', () => {
  const model = tinyModel(H, W, 1, CLASSES, 3);
  const x = randomImages(2, H, W, 1, 4);
  const got = softVoteLogits(model, x, { bandWidth: 2 });
  const masks = bandMasks('column', H, W, 2);
  const expected = tf.tidy(() => {
    const per = Array.from({ length: W }, (_, b) =>
      tf.softmax(model.predict(encodeAblated(x, tf.tensor4d(masks.slice(b * H * W, (b + 1) * H * W), [1, H, W, 1])))),
    );
    return tf.log(tf.div(tf.addN(per), W));
  });
  const g = got.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < g.length; i++) assertClose(g[i]!, e[i]!, 1e-5);
  const grad = tf.grad((xi: tf.Tensor) => tf.sum(tf.slice(softVoteLogits(model, xi as tf.Tensor4D, { bandWidth: 2 }), [0, 0], [2, 1])))(x);
  assert.ok(tf.max(tf.abs(grad)).dataSync()[0]! > 0);
  tf.dispose([got, expected, grad, x]);
  model.dispose();
});

soft.run();
