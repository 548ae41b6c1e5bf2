// Shared helpers of the datasets tests (not a test file: the runner picks *.test.ts only).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { env, PatchcertError, type PatchcertErrorCode } from '@patchcert/backend';

const created: string[] = [];
// Temporary folders (caches of a full Fashion-MNIST split among them) go when the test file ends.
process.on('exit', () => {
  for (const d of created) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the process exits. */
export function tmp(prefix = 'pc-datasets-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
}

/** Points the dataset cache at a fresh temporary directory so no test touches the user cache. */
export function isolateCache(): string {
  env.cacheDir = tmp('pc-cache-');
  return env.cacheDir;
}

/** Asserts that `run` throws (or rejects with) a PatchcertError of `code` whose message matches `re`. */
export async function throwsCode(run: () => unknown, code: PatchcertErrorCode, re?: RegExp): Promise<PatchcertError> {
  let caught: unknown;
  try {
    await run();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught !== undefined, `expected a ${code} error, but nothing was thrown`);
  assert.instance(caught, PatchcertError);
  const err = caught as PatchcertError;
  assert.is(err.code, code, err.message);
  assert.match(err.message, /^Error in \w+(\.\w+)?: /);
  if (re) assert.match(err.message, re);
  return err;
}

/** Deterministic test pixels: image `n` of shape h×w×c. */
export function pattern(n: number, h: number, w: number, c: number): Uint8Array {
  const out = new Uint8Array(h * w * c);
  for (let i = 0; i < out.length; i++) out[i] = (i * 37 + n * 101 + ((i * i) >> 3)) & 255;
  return out;
}

/** Encodes h×w×c (c = 1 or 3) bytes as PNG (gray or RGB). */
export function encodePng(pixels: Uint8Array, h: number, w: number, c: number): Buffer {
  const rgba = Buffer.alloc(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) rgba[4 * p + k] = pixels[p * c + (c === 1 ? 0 : k)]!;
    rgba[4 * p + 3] = 255;
  }
  return pngjs.PNG.sync.write({ width: w, height: h, data: rgba }, { colorType: c === 1 ? 0 : 2 });
}

/** Encodes h×w×3 bytes as JPEG. */
export function encodeJpeg(pixels: Uint8Array, h: number, w: number, quality = 90): Buffer {
  const rgba = Buffer.alloc(h * w * 4);
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) rgba[4 * p + k] = pixels[p * 3 + k]!;
    rgba[4 * p + 3] = 255;
  }
  return jpeg.encode({ width: w, height: h, data: rgba }, quality).data;
}

/** Writes `bytes` to `root/rel`, creating folders. */
export function put(root: string, rel: string, bytes: Uint8Array | string): string {
  const path = join(root, rel);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}
