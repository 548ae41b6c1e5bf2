import { tf, type Rng } from '@patchcert/backend';
import type { Classifier } from '../classifier.js';
import type { Defense } from '../defense.js';

/**
 * The engine every attack here shares: sign-gradient ascent on the cross-entropy restricted to
 * a per-row pixel mask, over many (image, mask) rows stacked into one batch.
 *
 * Rows are processed in chunks of `batchSize`; within a chunk every step is one forward and
 * backward pass for all rows. Scores are read back each step (two small vectors) so the best
 * iterate per row can be chosen on the host, while the iterates themselves stay on device.
 */
export interface AscentProblem {
  model: Classifier;
  defense: Defense | undefined;
  /** Clean pixels, host copy, `[B·H·W·C]`. */
  clean: Float32Array;
  shape: [number, number, number, number];
  labels: Int32Array;
  /** Targets per image for a targeted attack (maximise −CE(target)); undefined = untargeted. */
  targets: Int32Array | undefined;
  numClasses: number;
  /** Total rows; row `r` attacks image `imageOf[r]`. */
  rows: number;
  imageOf: Int32Array;
  /** Writes row `r`'s 0/1 pixel mask (`H·W`, shared by channels) into `out` at `offset`. */
  fillMask(r: number, out: Float32Array, offset: number): void;
  steps: number;
  stepSize: number;
  /** Half-width of the uniform random start around the clean value (pixel units); 0 = none. */
  randomStart: number;
  rng: Rng;
  batchSize: number;
  /** Skip rows of images already fooled, and end a chunk once all its images are fooled. */
  stopOnSuccess: boolean;
  /** Images not to attack (already fooled on the clean input). */
  skip: Uint8Array;
}

export interface AscentOutcome {
  /** Per image: 1 when some evaluated iterate fooled the model. */
  fooled: Uint8Array;
  /** Per image: 1 when the highest-CE iterate fooled it (the reference's rule). */
  fooledByBestLoss: Uint8Array;
  /** Per image: the objective of the kept iterate (CE of the label, or −CE of the target). */
  bestObjective: Float64Array;
  /** Per image: the row that gave the kept iterate, −1 when none ran. */
  bestRow: Int32Array;
  /** Per image: the kept iterate `[1,H,W,C]`, or null when none ran. Caller owns them. */
  best: (tf.Tensor4D | null)[];
  /** Rows × evaluations actually run. */
  evaluations: number;
}

/** A fooling iterate always ranks above a non-fooling one; within each group higher objective wins. */
const FOOLED_BONUS = 1e12;

export function maskedAscent(p: AscentProblem): AscentOutcome {
  const [B, H, W, C] = p.shape;
  const pix = H * W;
  const size = pix * C;
  const fooled = new Uint8Array(B);
  const fooledByBestLoss = new Uint8Array(B);
  const bestKey = new Float64Array(B).fill(-Infinity);
  const bestLossKey = new Float64Array(B).fill(-Infinity);
  const bestObjective = new Float64Array(B).fill(-Infinity);
  const bestRow = new Int32Array(B).fill(-1);
  const best: (tf.Tensor4D | null)[] = new Array<tf.Tensor4D | null>(B).fill(null);
  let evaluations = 0;

  const targeted = p.targets !== undefined;
  const goal = targeted ? p.targets! : p.labels;

  let next = 0;
  while (next < p.rows) {
    const chunk: number[] = [];
    while (next < p.rows && chunk.length < p.batchSize) {
      const r = next++;
      const b = p.imageOf[r]!;
      if (p.skip[b] || (p.stopOnSuccess && fooled[b])) continue;
      chunk.push(r);
    }
    if (chunk.length === 0) continue;
    const n = chunk.length;

    // Host-side start: clean rows, masks, and the uniform random start inside the mask.
    const maskHost = new Float32Array(n * pix);
    const x0 = new Float32Array(n * size);
    const goalRows = new Int32Array(n);
    const labelRows = new Int32Array(n);
    chunk.forEach((r, i) => {
      const b = p.imageOf[r]!;
      goalRows[i] = goal[b]!;
      labelRows[i] = p.labels[b]!;
      p.fillMask(r, maskHost, i * pix);
      x0.set(p.clean.subarray(b * size, (b + 1) * size), i * size);
      if (p.randomStart > 0) {
        for (let q = 0; q < pix; q++) {
          if (!maskHost[i * pix + q]) continue;
          for (let c = 0; c < C; c++) {
            const o = i * size + q * C + c;
            const v = x0[o]! + p.rng.uniform(-p.randomStart, p.randomStart);
            x0[o] = v < 0 ? 0 : v > 1 ? 1 : v;
          }
        }
      }
    });

    const mask = tf.tensor4d(maskHost, [n, H, W, 1]);
    const goalHot = tf.tidy(() => tf.oneHot(tf.tensor1d(goalRows, 'int32'), p.numClasses).toFloat());
    let x = tf.tensor4d(x0, [n, H, W, C]);
    let bestX = tf.clone(x);
    const rowKey = new Float64Array(n).fill(-Infinity);
    const rowLossKey = new Float64Array(n).fill(-Infinity);
    const rowObjective = new Float64Array(n).fill(-Infinity);
    const rowFooled = new Uint8Array(n);
    const rowFooledAtBestLoss = new Uint8Array(n);

    const objective = (xs: tf.Tensor4D): { obj: tf.Tensor1D; logits: tf.Tensor2D } => {
      const input = p.defense ? p.defense.apply(xs) : xs;
      const logits = p.model.predict(input);
      const ce = tf.neg(tf.sum(tf.mul(goalHot, tf.logSoftmax(logits)), 1)) as tf.Tensor1D;
      return { obj: targeted ? tf.neg(ce) : ce, logits };
    };

    // The reference scores the start and the first steps−1 updates; we also score the final
    // iterate, which can only make the attack stronger.
    for (let s = 0; s <= p.steps; s++) {
      const last = s === p.steps;
      const { obj, pred, grad } = tf.tidy((): { obj: tf.Tensor1D; pred: tf.Tensor1D; grad?: tf.Tensor4D } => {
        if (last) {
          const o = objective(x);
          return { obj: o.obj, pred: tf.argMax(o.logits, 1) };
        }
        let kept: { obj: tf.Tensor1D; logits: tf.Tensor2D } | undefined;
        const g = tf.grad((xs: tf.Tensor) => {
          const o = objective(xs as tf.Tensor4D);
          kept = { obj: tf.keep(o.obj), logits: tf.keep(o.logits) };
          return tf.sum(o.obj);
        })(x);
        const predicted = tf.argMax(kept!.logits, 1) as tf.Tensor1D;
        kept!.logits.dispose();
        return { obj: kept!.obj, pred: predicted, grad: g as tf.Tensor4D };
      });
      evaluations += n;
      const objHost = obj.dataSync();
      const predHost = pred.dataSync();
      obj.dispose();
      pred.dispose();
      const improved = new Float32Array(n);
      let anyImproved = false;
      let allFooled = true;
      for (let i = 0; i < n; i++) {
        const o = objHost[i]!;
        const hit = targeted ? predHost[i] === goalRows[i] : predHost[i] !== labelRows[i];
        if (hit) rowFooled[i] = 1;
        const key = o + (hit ? FOOLED_BONUS : 0);
        if (key > rowKey[i]!) {
          rowKey[i] = key;
          rowObjective[i] = o;
          improved[i] = 1;
          anyImproved = true;
        }
        // The reference keeps the highest-loss iterate (strictly greater replaces).
        if (o > rowLossKey[i]!) {
          rowLossKey[i] = o;
          rowFooledAtBestLoss[i] = hit ? 1 : 0;
        }
        if (!rowFooled[i]) allFooled = false;
      }
      if (anyImproved) {
        const prev = bestX;
        // prev·(1−m) + x·m with a broadcast 0/1 row mask: exact (one term is 0) and cheaper than a tiled where.
        bestX = tf.tidy(() => {
          const m = tf.tensor4d(improved, [n, 1, 1, 1]);
          return tf.add(tf.mul(prev, tf.sub(1, m)), tf.mul(x, m)) as tf.Tensor4D;
        });
        prev.dispose();
      }
      if (grad) {
        if (last || (p.stopOnSuccess && allFooled)) {
          grad.dispose();
          break;
        }
        const prev = x;
        x = tf.tidy(() => tf.clipByValue(tf.add(prev, tf.mul(tf.sign(grad), tf.mul(mask, p.stepSize))), 0, 1) as tf.Tensor4D);
        prev.dispose();
        grad.dispose();
      }
    }

    // Fold the chunk's rows into the per-image results.
    chunk.forEach((r, i) => {
      const b = p.imageOf[r]!;
      if (rowFooled[i]) fooled[b] = 1;
      if (rowLossKey[i]! > bestLossKey[b]!) {
        bestLossKey[b] = rowLossKey[i]!;
        fooledByBestLoss[b] = rowFooledAtBestLoss[i]!;
      }
      if (rowKey[i]! > bestKey[b]!) {
        bestKey[b] = rowKey[i]!;
        bestObjective[b] = rowObjective[i]!;
        bestRow[b] = r;
        best[b]?.dispose();
        best[b] = tf.keep(tf.slice(bestX, [i, 0, 0, 0], [1, H, W, C]));
      }
    });
    x.dispose();
    bestX.dispose();
    mask.dispose();
    goalHot.dispose();
  }
  return { fooled, fooledByBestLoss, bestObjective, bestRow, best, evaluations };
}
