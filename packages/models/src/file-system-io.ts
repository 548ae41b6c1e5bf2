import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { PatchcertError, tf } from '@patchcert/backend';

/**
 * A tfjs IO handler that reads and writes `layers-model` artifacts (model.json + weights.bin)
 * on the local file system, and the `file://` router that hands it to `tf.loadLayersModel` and
 * `LayersModel.save`. The union `@tensorflow/tfjs` package has no file handler in Node (only
 * tfjs-node registers one), so patchcert brings its own.
 */

type ModelArtifacts = tf.io.ModelArtifacts;
type WeightsManifestEntry = tf.io.WeightsManifestEntry;

/** File names inside a saved model directory. */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/**
 * Reads and writes one model directory. `path` is the directory or its `model.json`.
 *
 * Saving writes `weights.bin` then `model.json`, each to a temporary file renamed into place,
 * so a reader never sees a half-written file and a model.json always refers to complete weights.
 */
export class FileSystemHandler implements tf.io.IOHandler {
  /** The URL scheme this handler owns. */
  static readonly URL_SCHEME = 'file://';

  /** Absolute path of the model directory. */
  readonly dir: string;
  /** Absolute path of model.json. */
  readonly modelJsonPath: string;

  /**
   * @param path - a model directory or a path ending in `.json`.
   * @param fn - the public function reported in error messages.
   */
  constructor(path: string, private readonly fn = 'FileSystemHandler') {
    const abs = resolve(path);
    if (abs.endsWith('.json')) {
      this.dir = dirname(abs);
      this.modelJsonPath = abs;
    } else {
      this.dir = abs;
      this.modelJsonPath = join(abs, MODEL_JSON);
    }
  }

  /** Writes `model.json` and `weights.bin` (tfjs `SaveHandler`). */
  async save(artifacts: ModelArtifacts): Promise<tf.io.SaveResult> {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new PatchcertError('MODEL_FORMAT', `Error in ${this.fn}: modelTopology must be a JSON (layers-model) topology, but got a binary GraphDef.`);
    }
    const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
    const weightsName = basename(this.modelJsonPath) === MODEL_JSON ? WEIGHTS_BIN : `${basename(this.modelJsonPath, '.json')}.weights.bin`;
    const modelJSON: tf.io.ModelJSON = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology ?? {},
      weightsManifest: [{ paths: [weightsName], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig !== undefined) modelJSON.trainingConfig = artifacts.trainingConfig;
    if (artifacts.signature !== undefined) modelJSON.signature = artifacts.signature;
    if (artifacts.userDefinedMetadata !== undefined) modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
    if (artifacts.modelInitializer !== undefined) modelJSON.modelInitializer = artifacts.modelInitializer;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeAtomic(join(this.dir, weightsName), new Uint8Array(weightData));
      await writeAtomic(this.modelJsonPath, JSON.stringify(modelJSON));
    } catch (err) {
      throw new PatchcertError('INTERNAL', `Error in ${this.fn}: writing ${this.modelJsonPath} failed: ${(err as Error).message}`, { cause: err });
    }
    return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON({ ...artifacts, weightData }) };
  }

  /**
   * Reads `model.json` and the weight files its manifest lists (tfjs `LoadHandler`).
   *
   * @throws PatchcertError `FILE_NOT_FOUND` when model.json or a weights file is missing,
   *   `MODEL_FORMAT` when model.json is not valid JSON of a layers-model or a weights file does
   *   not hold exactly the bytes its manifest declares.
   */
  async load(): Promise<ModelArtifacts> {
    const file = this.modelJsonPath;
    const text = await readOrThrow(file, this.fn, 'model.json').then((b) => b.toString('utf8'));
    let json: tf.io.ModelJSON;
    try {
      json = JSON.parse(text) as tf.io.ModelJSON;
    } catch (err) {
      throw new PatchcertError('MODEL_FORMAT', `Error in ${this.fn}: ${file} must be valid JSON, but parsing failed: ${(err as Error).message}.`, { cause: err });
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw new PatchcertError('MODEL_FORMAT', `Error in ${this.fn}: ${file} must hold a JSON object, but got ${typeof json}.`);
    }
    if (json.format !== undefined && json.format !== 'layers-model') {
      throw new PatchcertError('MODEL_FORMAT', `Error in ${this.fn}: ${file} format must be 'layers-model', but got '${String(json.format)}'.`);
    }
    if (!json.modelTopology || typeof json.modelTopology !== 'object') {
      throw new PatchcertError('MODEL_FORMAT', `Error in ${this.fn}: ${file} must have a modelTopology object, but got ${JSON.stringify(json.modelTopology)}.`);
    }
    const manifest = json.weightsManifest;
    if (!Array.isArray(manifest) || !manifest.every((g) => g && Array.isArray(g.paths) && Array.isArray(g.weights))) {
      throw new PatchcertError('MODEL_FORMAT', `Error in ${this.fn}: ${file} weightsManifest must be an array of { paths, weights } groups, but got ${JSON.stringify(manifest)?.slice(0, 120)}.`);
    }
    const specs: WeightsManifestEntry[] = [];
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      let expected = 0;
      for (const w of group.weights) {
        const n = expectedBytes(w);
        if (n === null) {
          throw new PatchcertError('MODEL_FORMAT', `Error in ${this.fn}: ${file} weight '${w?.name}' must have a numeric shape and a known dtype, but got ${JSON.stringify(w)}.`);
        }
        expected += n;
      }
      const parts: Buffer[] = [];
      for (const p of group.paths) {
        const wfile = resolve(this.dir, p);
        parts.push(await readOrThrow(wfile, this.fn, `weights file listed in ${file}`));
      }
      const got = parts.reduce((s, b) => s + b.byteLength, 0);
      if (got !== expected) {
        throw new PatchcertError(
          'MODEL_FORMAT',
          `Error in ${this.fn}: ${group.paths.map((p) => resolve(this.dir, p)).join(' + ')} must hold ${expected} bytes for the ${group.weights.length} weights listed in ${file}, but got ${got} bytes` +
            (got < expected ? ' (truncated?).' : '.'),
        );
      }
      for (const b of parts) buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
      specs.push(...group.weights);
    }
    return tf.io.getModelArtifactsForJSON(json, async () => [specs, tf.io.CompositeArrayBuffer.join(buffers)]);
  }
}

function expectedBytes(w: WeightsManifestEntry): number | null {
  if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d) => Number.isInteger(d) && d >= 0)) return null;
  const size = w.shape.reduce((a, b) => a * b, 1);
  const per = w.quantization ? BYTES_PER_ELEMENT[w.quantization.dtype] : BYTES_PER_ELEMENT[w.dtype];
  return per === undefined ? null : size * per;
}

async function readOrThrow(file: string, fn: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new PatchcertError('FILE_NOT_FOUND', `Error in ${fn}: ${what} ${file} must exist, but it was not found.`, { cause: err });
    }
    if (code === 'EISDIR') {
      throw new PatchcertError('MODEL_FORMAT', `Error in ${fn}: ${what} ${file} must be a file, but got a directory.`, { cause: err });
    }
    throw new PatchcertError('INTERNAL', `Error in ${fn}: reading ${file} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Writes `data` to `file` through a temporary sibling and a rename. */
async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * A file-system IO handler for a model directory (or its `model.json`).
 *
 * @param path - a directory, a `.json` path, or a `file://` URL.
 * @example
 * await layersModel.save(fileSystem('/tmp/model'));
 */
export function fileSystem(path: string): FileSystemHandler {
  return new FileSystemHandler(toLocalPath(path));
}

/** `file:///abs/dir` → `/abs/dir`; `file://relative/dir` → `relative/dir` (as tfjs-node accepts). */
function fileUrlToPath(url: string): string {
  return url.startsWith('file:///') ? fileURLToPath(url) : url.slice(FileSystemHandler.URL_SCHEME.length);
}

/** A local path for a path or `file://` URL. */
export function toLocalPath(pathOrUrl: string): string {
  return pathOrUrl.startsWith(FileSystemHandler.URL_SCHEME) ? fileUrlToPath(pathOrUrl) : pathOrUrl;
}

/**
 * The `file://` router: a handler for a `file://` URL, null for any other (tfjs
 * `IORouterRegistry` contract).
 */
export function fileSystemRouter(url: string | string[]): FileSystemHandler | null {
  if (Array.isArray(url)) return url.length === 1 && typeof url[0] === 'string' ? fileSystemRouter(url[0]) : null;
  if (typeof url !== 'string' || !url.startsWith(FileSystemHandler.URL_SCHEME)) return null;
  return new FileSystemHandler(fileUrlToPath(url), 'fileSystemRouter');
}

// Kept on globalThis so a second copy of this module (source and built, in one process) does not
// register a second router: tfjs throws when two handlers answer the same URL.
const REGISTERED = Symbol.for('@patchcert/models.fileSystemRouter');

/**
 * Registers {@link fileSystemRouter} with tfjs for loading and saving, once per process, so
 * `tf.loadLayersModel('file:///abs/dir/model.json')` and `model.save('file:///abs/dir')` work in
 * Node. Skipped when another `file://` router (tfjs-node's) already answers.
 *
 * @returns true when this call registered the router.
 */
export function registerFileSystemRouter(): boolean {
  const g = globalThis as Record<symbol, unknown>;
  if (g[REGISTERED]) return false;
  g[REGISTERED] = true;
  if (tf.io.getLoadHandlers('file:///patchcert-probe/model.json').length > 0) return false;
  // tfjs types IORouter without strictNullChecks; returning null for other schemes is its contract.
  const router = fileSystemRouter as unknown as Parameters<typeof tf.io.registerLoadRouter>[0];
  tf.io.registerLoadRouter(router);
  tf.io.registerSaveRouter(router);
  return true;
}

