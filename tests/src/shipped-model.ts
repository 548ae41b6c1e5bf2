import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PatchcertError, tf } from '@patchcert/backend';
import { loadDataset } from '@patchcert/datasets';
import { loadModel, type SequentialModel } from '@patchcert/models';
import { certify } from '@patchcert/bounds';
import { makeThreat, parseTrainConfig, type TrainConfig } from '@patchcert/trainers';

/** What `models/<name>/reference.json` records beside a shipped model. */
export interface ShippedReference {
  name: string;
  /** The config that trained it, relative to the repo root (also copied as `config.json`). */
  config: string;
  /** Clean and certified accuracy on the full test split, every location, eps 1. */
  fullTest: { images: number; cleanAccuracy: number; certifiedAccuracy: number };
  training: { epochs: number; trainSeconds: number; machine: string; backend: string };
  /**
   * Per-image verdicts on `subset.images` test images, for the regression test: the first ones,
   * or with `sampleSeed` the loader's fixed random sample (`sample`, `seed`), which covers every
   * class of a class-sorted split (the CIFAR-10 JPEG copy's test split starts with 1,000 planes).
   */
  subset: { images: number; sampleSeed?: number; certified: number[]; correct: number[]; worstMargin: number[] };
}

/** Seed of the test images a newly shipped model is re-certified on (older models: the first ones). */
export const SHIPPED_SAMPLE_SEED = 0;

/** Subset size re-certified by the shipped-model test. */
export const SHIPPED_SUBSET = 100;

/** Reads a shipped model directory: the model, its config and its reference figures. */
export async function readShippedModel(dir: string): Promise<{ model: SequentialModel; config: TrainConfig; reference: ShippedReference }> {
  const refFile = join(dir, 'reference.json');
  let reference: ShippedReference;
  try {
    reference = JSON.parse(await readFile(refFile, 'utf8')) as ShippedReference;
  } catch (err) {
    throw new PatchcertError('FILE_NOT_FOUND', `Error in readShippedModel: ${refFile} must exist and hold JSON, but it could not be read.`, { cause: err });
  }
  const configFile = join(dir, 'config.json');
  const config = parseTrainConfig(JSON.parse(await readFile(configFile, 'utf8')), configFile);
  const model = await loadModel(join(dir, 'model'));
  return { model, config, reference };
}

/**
 * Certifies `images` test images of a shipped model's dataset with its config's threat: the first
 * ones, or a fixed random sample drawn with `sampleSeed`.
 */
export async function certifySubset(model: SequentialModel, config: TrainConfig, images: number, sampleSeed?: number): Promise<{ certified: number[]; correct: number[]; worstMargin: number[] }> {
  const ds = await loadDataset(config.dataset, sampleSeed === undefined ? { split: 'test', limit: images } : { split: 'test', sample: images, seed: sampleSeed });
  const [h, w, c] = ds.shape;
  const x = tf.tensor4d(Float32Array.from(ds.images, (v) => v / 255), [ds.count, h, w, c]);
  try {
    const r = await certify(model, x, ds.labels, makeThreat(config.threat));
    return { certified: Array.from(r.certified), correct: Array.from(r.correct), worstMargin: Array.from(r.worstMargin) };
  } finally {
    x.dispose();
  }
}
