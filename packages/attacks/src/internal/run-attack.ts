import { tf, Rng, PatchcertError } from '@patchcert/backend';
import type { Classifier } from '../classifier.js';
import type { Defense } from '../defense.js';
import type { AttackResult } from '../attack-result.js';
import { maskedAscent, type AscentProblem } from './masked-ascent.js';
import { readLabels } from './inputs.js';
import { describe } from '../patch-geometry.js';

export type TargetSpec = ArrayLike<number> | tf.Tensor1D | 'random';

/** Clean predictions through the optional defense. */
export function predictClasses(model: Classifier, defense: Defense | undefined, images: tf.Tensor4D, batchSize: number): { pred: Int32Array; numClasses: number } {
  const B = images.shape[0];
  const pred = new Int32Array(B);
  let numClasses = 0;
  for (let s = 0; s < B; s += batchSize) {
    const n = Math.min(batchSize, B - s);
    const [p, k] = tf.tidy(() => {
      const x = tf.slice(images, [s, 0, 0, 0], [n, -1, -1, -1]);
      const logits = model.predict(defense ? defense.apply(x) : x);
      return [tf.argMax(logits, 1).dataSync(), logits.shape[1]] as const;
    });
    pred.set(p as ArrayLike<number>, s);
    numClasses = k;
  }
  return { pred, numClasses };
}

export function resolveTargets(spec: TargetSpec | undefined, labels: Int32Array, numClasses: number, rng: Rng, fn: string): Int32Array | undefined {
  if (spec === undefined) return undefined;
  if (spec === 'random') {
    if (numClasses < 2) throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: targeted 'random' must have at least 2 classes, but got ${numClasses}.`);
    return Int32Array.from(labels, (y) => (y + 1 + rng.int(numClasses - 1)) % numClasses);
  }
  if (typeof spec === 'string') throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: targeted must be 'random' or one target per image, but got ${describe(spec)}.`);
  const t = readLabels(spec, labels.length, numClasses, fn, 'targeted');
  t.forEach((v, i) => {
    if (v === labels[i]) throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: targeted[${i}] must differ from the label ${labels[i]}, but got ${v}.`);
  });
  return t;
}

export interface RunSpec {
  model: Classifier;
  defense: Defense | undefined;
  images: tf.Tensor4D;
  labels: Int32Array;
  targets: Int32Array | undefined;
  numClasses: number;
  cleanPred: Int32Array;
  rows: number;
  imageOf: Int32Array;
  fillMask: AscentProblem['fillMask'];
  steps: number;
  stepSize: number;
  randomStart: number;
  rng: Rng;
  batchSize: number;
  stopOnSuccess: boolean;
}

/** Runs the shared ascent and assembles an {@link AttackResult}. */
export function runAttack(spec: RunSpec): AttackResult & { bestRow: Int32Array } {
  const [B, H, W, C] = spec.images.shape;
  const { labels, targets, cleanPred } = spec;
  const cleanCorrect = Uint8Array.from(cleanPred, (p, i) => (p === labels[i] ? 1 : 0));
  const cleanHit = Uint8Array.from(cleanPred, (p, i) => (targets ? p === targets[i] : p !== labels[i]) ? 1 : 0);
  const clean = spec.images.dataSync() as Float32Array;
  const out = maskedAscent({
    model: spec.model,
    defense: spec.defense,
    clean,
    shape: [B, H, W, C],
    labels,
    targets,
    numClasses: spec.numClasses,
    rows: spec.rows,
    imageOf: spec.imageOf,
    fillMask: spec.fillMask,
    steps: spec.steps,
    stepSize: spec.stepSize,
    randomStart: spec.randomStart,
    rng: spec.rng,
    batchSize: spec.batchSize,
    stopOnSuccess: spec.stopOnSuccess,
    skip: cleanHit,
  });
  const success = new Uint8Array(B);
  const successByBestLoss = new Uint8Array(B);
  const bestLoss = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    success[b] = cleanHit[b] || out.fooled[b] ? 1 : 0;
    successByBestLoss[b] = cleanHit[b] || out.fooledByBestLoss[b] ? 1 : 0;
    bestLoss[b] = out.bestObjective[b]!;
  }
  const adversarial = tf.tidy(() => {
    const parts = out.best.map((t, b) => t ?? tf.slice(spec.images, [b, 0, 0, 0], [1, H, W, C]));
    return tf.concat(parts, 0) as tf.Tensor4D;
  });
  for (const t of out.best) t?.dispose();
  const { pred: adversarialPrediction } = predictClasses(spec.model, spec.defense, adversarial, spec.batchSize);
  let correct = 0;
  let robust = 0;
  for (let b = 0; b < B; b++) {
    correct += cleanCorrect[b]!;
    if (cleanCorrect[b] && !success[b]) robust++;
  }
  return {
    adversarial,
    success,
    successByBestLoss,
    cleanCorrect,
    adversarialPrediction,
    bestLoss,
    targets,
    cleanAccuracy: correct / B,
    adversarialAccuracy: robust / B,
    evaluations: out.evaluations,
    bestRow: out.bestRow,
  };
}
