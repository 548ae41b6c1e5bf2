import { tf, PatchcertError } from '@patchcert/backend';

/** A tensor stored in a checkpoint: its shape and its float32 bytes as base64 (exact, compact). */
export interface EncodedTensor {
  shape: number[];
  data: string;
}

/** Encodes a float32 tensor's values exactly for a JSON checkpoint. */
export function encodeTensor(t: tf.Tensor): EncodedTensor {
  const values = t.dataSync() as Float32Array;
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { shape: [...t.shape], data: Buffer.from(bytes).toString('base64') };
}

/** Decodes {@link encodeTensor}'s output, checking it against the expected shape. */
export function decodeTensor(e: unknown, expectShape: readonly number[], what: string, fn: string): tf.Tensor {
  const enc = e as Partial<EncodedTensor> | undefined;
  if (!enc || !Array.isArray(enc.shape) || typeof enc.data !== 'string') {
    throw new PatchcertError('DATA_FORMAT', `Error in ${fn}: ${what} must be {shape, data}, but got ${typeof e}.`);
  }
  if (enc.shape.length !== expectShape.length || enc.shape.some((d, i) => d !== expectShape[i])) {
    throw new PatchcertError('SHAPE_MISMATCH', `Error in ${fn}: ${what} must have shape [${expectShape}], but got [${enc.shape}].`);
  }
  const buf = Buffer.from(enc.data, 'base64');
  const size = expectShape.reduce((a, b) => a * b, 1);
  if (buf.byteLength !== size * 4) {
    throw new PatchcertError('DATA_FORMAT', `Error in ${fn}: ${what} must hold ${size * 4} bytes, but got ${buf.byteLength}.`);
  }
  const values = new Float32Array(size);
  new Uint8Array(values.buffer).set(buf);
  return tf.tensor(values, [...expectShape], 'float32');
}
