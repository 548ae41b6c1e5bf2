// The one module of trainers that saves and loads models. Until @patchcert/models exports
// saveModel/loadModel, a minimal format stands in (model.json + weights.bin, float32 LE).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf, PatchcertError } from '@patchcert/backend';
import { SequentialModel, type LayerSpec, type ModelMetadata } from '@patchcert/models';

/** Writes `model` into `dir` (created). */
export async function saveModel(model: SequentialModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const vars = model.trainableVariables();
  const datas = await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array));
  const total = datas.reduce((s, d) => s + d.length, 0);
  const buf = new Float32Array(total);
  let o = 0;
  for (const d of datas) {
    buf.set(d, o);
    o += d.length;
  }
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(buf.buffer));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'patchcert-trainers-interim', layers: model.layers, metadata: model.metadata, shapes: vars.map((v) => v.shape) }, null, 1));
}

/** Reads a model written by {@link saveModel}. */
export async function loadModel(dir: string): Promise<SequentialModel> {
  let meta: { layers: LayerSpec[]; metadata: ModelMetadata; shapes: number[][] };
  try {
    meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  } catch (err) {
    throw new PatchcertError('FILE_NOT_FOUND', `Error in loadModel: ${dir} must hold model.json, but it could not be read.`, { cause: err });
  }
  const raw = readFileSync(join(dir, 'weights.bin'));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  let o = 0;
  const tensors: tf.Tensor[] = meta.shapes.map((s) => {
    const n = s.reduce((a, b) => a * b, 1);
    const t = tf.tensor(all.subarray(o, o + n), s, 'float32');
    o += n;
    return t;
  });
  const weights: { kernel: tf.Tensor; bias: tf.Tensor }[] = [];
  for (let i = 0; i < tensors.length; i += 2) weights.push({ kernel: tensors[i]!, bias: tensors[i + 1]! });
  const model = new SequentialModel(meta.layers, weights, meta.metadata);
  tensors.forEach((t) => t.dispose());
  return model;
}
