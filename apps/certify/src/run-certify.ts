import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { BACKEND_NAMES, describeBackend, env, initBackend, PatchcertError, toBackendName } from '@patchcert/backend';
import { loadDataset, subsetIndices, type ImageDataset } from '@patchcert/datasets';
import { loadModel } from '@patchcert/models';
import { InProcessExecutor, WorkerExecutor, type BatchExecutor } from './internal/executors.js';
import { prepareThreats, type BatchOutcome, type ImageBatch } from './internal/certify-images.js';
import { checkThreatsFit, parsePatchList, parseShapeList, parseSparseList, type ThreatSpec } from './internal/threat-spec.js';
import type { WorkerInit } from './internal/worker-protocol.js';
import { readResults, writeFileAtomic, writeResults } from './results-file.js';
import { RESULTS_SCHEMA, type CertifyResults, type ImageResult, type ReportSample, type RunTiming } from './results.js';
import { buildReportHtml } from './report-html.js';
import { formatTable, resultTables, summarize } from './summary.js';

/** Options of {@link runCertify}; every field is optional except the model directory. */
export interface CertifyRunOptions {
  /** Directory written by `saveModel`. */
  modelDir: string;
  /** Dataset name (`mnist`, `fashion-mnist`, `cifar10`, `folder:<path>`). @defaultValue the model's `metadata.dataset` */
  dataset?: string;
  /** `--patch` list, e.g. `2x2,5x5`. @defaultValue '2x2,5x5' when no threat is given */
  patch?: string;
  /** `--shapes` pixel counts, e.g. `4,16,25`. */
  shapes?: string;
  /** Stencils of the shape table. @defaultValue all five of paper Table 5 */
  shapeNames?: string;
  /** `--sparse` k list, e.g. `1,4,10`. */
  sparse?: string;
  /** Certify only the first N test images. @defaultValue all */
  limit?: number;
  /**
   * Certify a fixed random sample of N test images instead (kept in test-split order; better
   * than `limit` for class-sorted image folders such as the CIFAR-10 JPEG tarball). Exclusive
   * with `limit`.
   */
  sample?: number;
  /** Seed of `sample`. @defaultValue 0 */
  seed?: number;
  /** @defaultValue env.backend (`wasm`) */
  backend?: string;
  /** Worker threads. @defaultValue {@link defaultWorkers} */
  workers?: number;
  /** Images per certify call. @defaultValue 10 (the reference's eval batch) */
  batchSize?: number;
  /** Report examples kept per group (certified / not certified). @defaultValue 6 */
  samples?: number;
  /** JSON results file, written incrementally. */
  json?: string;
  /** HTML report file. */
  report?: string;
  /** Continue from the partial JSON at `json`. @defaultValue false */
  resume?: boolean;
  /** Progress bar and tables on the terminal. @defaultValue true */
  progress?: boolean;
  /** Stop early (interrupt) when this signal aborts; the CLI wires it to SIGINT. */
  signal?: AbortSignal;
  /** Written into the results for provenance. */
  argv?: string[];
}

/**
 * Worker threads used when `--workers` is not given: `PATCHCERT_WORKERS` (default 1). Two
 * workers were not faster on the shared 2-core machine this was measured on (the cores were
 * already busy, so a second thread gained no CPU; see README), so one is the default and a second
 * is opt-in where a core is idle.
 */
export function defaultWorkers(): number {
  return env.workers;
}

const KNOWN_DATASETS = ['mnist', 'fashion-mnist', 'cifar10'];

function checkDatasetName(name: string): void {
  if (!KNOWN_DATASETS.includes(name) && !name.startsWith('folder:')) {
    throw new PatchcertError(
      'INVALID_OPTION',
      `Error in certify: --dataset must be one of ${KNOWN_DATASETS.join(', ')} or folder:<path>, but got '${name}'.`,
    );
  }
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new PatchcertError('INVALID_OPTION', `Error in certify: ${what} must be an integer >= 1, but got ${String(value)}.`);
  return v;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The outcome of {@link runCertify}. */
export interface CertifyRunOutcome {
  results: CertifyResults;
  /** True when the run stopped before certifying every image (interrupted). */
  interrupted: boolean;
}

/**
 * Certifies a saved model on the test split for every requested threat model, writing JSON
 * results incrementally and an HTML report at the end (also when interrupted).
 *
 * @throws PatchcertError `FILE_NOT_FOUND` (model dir, resume file), `INVALID_OPTION` (bad
 *   threat lists, unknown dataset, patch larger than the image), `SHAPE_MISMATCH` (dataset images
 *   do not fit the model).
 * @example
 * await runCertify({ modelDir: 'out/mlp', patch: '2x2', limit: 100, json: 'cert.json' });
 */
export async function runCertify(opts: CertifyRunOptions): Promise<CertifyRunOutcome> {
  const modelDir = resolve(opts.modelDir);
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) {
    throw new PatchcertError('FILE_NOT_FOUND', `Error in certify: <model-dir> must be a directory written by saveModel, but ${modelDir} does not exist.`);
  }
  if (opts.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(opts.backend)) {
    throw new PatchcertError('INVALID_OPTION', `Error in certify: --backend must be one of ${BACKEND_NAMES.join(', ')}, but got '${opts.backend}'.`);
  }
  const backend = toBackendName(opts.backend ?? env.backend);
  const workers = positive(opts.workers, defaultWorkers(), '--workers');
  const batchSize = positive(opts.batchSize, 10, '--batch-size');
  const samplesPerGroup = opts.samples ?? 6;
  if (opts.limit !== undefined) positive(opts.limit, 1, '--limit');
  if (opts.sample !== undefined) positive(opts.sample, 1, '--sample');
  if (opts.limit !== undefined && opts.sample !== undefined) {
    throw new PatchcertError('INVALID_OPTION', `Error in certify: --limit and --sample must not both be given, but got --limit ${opts.limit} and --sample ${opts.sample}.`);
  }
  if (opts.resume && !opts.json) {
    throw new PatchcertError('INVALID_OPTION', 'Error in certify: --resume must come with --json <file> (the partial results to continue), but no --json was given.');
  }
  let threats: ThreatSpec[] = [
    ...(opts.patch ? parsePatchList(opts.patch) : []),
    ...(opts.shapes ? parseShapeList(opts.shapes, opts.shapeNames) : []),
    ...(opts.sparse ? parseSparseList(opts.sparse) : []),
  ];
  if (threats.length === 0) threats = parsePatchList('2x2,5x5');
  if (opts.dataset !== undefined) checkDatasetName(opts.dataset);

  const info = await initBackend(backend);
  const model = await loadModel(modelDir);
  const metadata = model.metadata;
  const parameters = model.parameterCount();
  model.dispose();
  const [h, w, c] = metadata.inputShape;
  checkThreatsFit(threats, h, w);
  // A shape stencil bounds cannot build at a pixel count (a 10-pixel square) or that does not fit
  // the image is left out of the table ("–") rather than failing the whole run.
  const skipped: Array<{ threat: string; reason: string }> = [];
  threats = threats.filter((t) => {
    if (t.kind !== 'shape') return true;
    try {
      const built = prepareThreats([t])[0]!.threat;
      if (built.kind === 'patch' && (built.height > h || built.width > w)) {
        skipped.push({ threat: t.id, reason: `its ${built.height}×${built.width} bounding box does not fit the ${h}×${w} image` });
        return false;
      }
      return true;
    } catch (err) {
      skipped.push({ threat: t.id, reason: err instanceof Error ? err.message : String(err) });
      return false;
    }
  });
  if (threats.length === 0) {
    throw new PatchcertError('INVALID_OPTION', `Error in certify: at least one threat must be buildable, but every shape was skipped (${skipped.map((s) => s.reason).join('; ')}).`);
  }
  const datasetName = opts.dataset ?? metadata.dataset;
  checkDatasetName(datasetName);
  const ds: ImageDataset = await loadDataset(datasetName, { split: 'test', ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
  // Results keep test-split indices, so a sample's images are named as in the full split.
  const seed = opts.seed ?? 0;
  const chosen = opts.sample !== undefined ? subsetIndices(ds.count, { sample: opts.sample, seed }) : undefined;
  const selected: number[] = chosen ? Array.from(chosen) : Array.from({ length: ds.count }, (_, i) => i);
  if (ds.shape[0] !== h || ds.shape[1] !== w || ds.shape[2] !== c) {
    throw new PatchcertError(
      'SHAPE_MISMATCH',
      `Error in certify: dataset images must be [${metadata.inputShape}] like the model's input, but ${datasetName} has [${ds.shape}].`,
    );
  }
  const total = selected.length;
  const heatmapThreat = threats.find((t) => t.kind !== 'sparse')?.id ?? null;

  let previous: CertifyResults | undefined;
  if (opts.resume) {
    previous = readResults(resolve(opts.json!));
    const same = (a: ThreatSpec[], b: ThreatSpec[]) => a.map((t) => t.id).join() === b.map((t) => t.id).join();
    const sameSample = (previous.dataset.sample ?? null) === (opts.sample ?? null) && (opts.sample === undefined || previous.dataset.seed === seed);
    if (!same(previous.threats, threats) || previous.dataset.name !== datasetName || previous.dataset.total !== total || !sameSample) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in certify: --resume must use the same threats, dataset and limit/sample as the stored run (${previous.threats.map((t) => t.id).join(',')} on ${previous.dataset.name}, ${previous.dataset.total} images), but got ${threats.map((t) => t.id).join(',')} on ${datasetName}, ${total} images.`,
      );
    }
  }

  const done = new Map<number, ImageResult>((previous?.images ?? []).map((r) => [r.index, r]));
  const samples: ReportSample[] = [...(previous?.samples ?? [])];
  const runs: RunTiming[] = [...(previous?.timing.runs ?? [])];
  const todo: number[] = [];
  for (const i of selected) if (!done.has(i)) todo.push(i);
  const batches: ImageBatch[] = [];
  const px = h * w * c;
  for (let s = 0; s < todo.length; s += batchSize) {
    const indices = todo.slice(s, s + batchSize);
    const pixels = new Uint8Array(indices.length * px);
    indices.forEach((idx, j) => pixels.set(ds.images.subarray(idx * px, (idx + 1) * px), j * px));
    batches.push({ indices, pixels, labels: indices.map((idx) => ds.labels[idx]!) });
  }

  const startedAt = new Date();
  const t0 = performance.now();
  let imagesThisRun = 0;
  let tReady: number | undefined;
  const useWorkers = Math.max(1, Math.min(workers, batches.length));
  let backendLine = describeBackend(info);

  const snapshot = (partial: boolean): CertifyResults => {
    const images = [...done.values()].sort((a, b) => a.index - b.index);
    const now = performance.now();
    const seconds = (now - t0) / 1000;
    const startupSeconds = ((tReady ?? now) - t0) / 1000;
    const working = seconds - startupSeconds;
    const thisRun: RunTiming = {
      startedAt: startedAt.toISOString(),
      seconds,
      startupSeconds,
      images: imagesThisRun,
      imagesPerSecond: working > 0 ? imagesThisRun / working : 0,
      workers: useWorkers,
    };
    const allRuns = [...runs, thisRun];
    const totalSeconds = allRuns.reduce((s, r) => s + r.seconds, 0);
    const totalWorking = allRuns.reduce((s, r) => s + r.seconds - (r.startupSeconds ?? 0), 0);
    const totalImages = allRuns.reduce((s, r) => s + r.images, 0);
    return {
      schema: RESULTS_SCHEMA,
      partial,
      updatedAt: new Date().toISOString(),
      model: { dir: modelDir, metadata: metadata as unknown as CertifyResults['model']['metadata'], parameters },
      dataset: {
        name: datasetName,
        split: 'test',
        total,
        limit: opts.limit ?? null,
        sample: opts.sample ?? null,
        ...(opts.sample !== undefined ? { seed } : {}),
      },
      command: opts.argv ?? [],
      backend: backendLine,
      threats,
      skipped,
      heatmapThreat,
      timing: { seconds: totalSeconds, images: totalImages, imagesPerSecond: totalWorking > 0 ? totalImages / totalWorking : 0, runs: allRuns },
      summary: summarize(threats, images),
      images,
      samples: [...samples].sort((a, b) => Number(b.certified) - Number(a.certified) || a.index - b.index),
    };
  };

  let lastWrite = 0;
  const save = (partial: boolean, force: boolean) => {
    if (!opts.json) return;
    const now = performance.now();
    if (!force && now - lastWrite < 1000) return;
    lastWrite = now;
    writeResults(resolve(opts.json), snapshot(partial));
  };

  const keepSample = (outcome: BatchOutcome, batch: ImageBatch, j: number) => {
    if (!heatmapThreat || samplesPerGroup <= 0) return;
    const r = outcome.results[j]!;
    const map = outcome.maps[j];
    if (!map) return;
    const certified = r.threats[heatmapThreat]?.certified ?? false;
    const group = samples.filter((s) => s.certified === certified);
    if (group.length >= samplesPerGroup && !group.some((s) => s.index > r.index)) return;
    samples.push({
      index: r.index,
      label: r.label,
      prediction: r.prediction,
      certified,
      threat: heatmapThreat,
      shape: [h, w, c],
      pixels: toBase64(batch.pixels.subarray(j * px, (j + 1) * px)),
      rows: outcome.grid[0],
      cols: outcome.grid[1],
      worstMarginMap: Array.from(map, (v) => Math.round(v * 1e4) / 1e4),
    });
    if (group.length + 1 > samplesPerGroup) {
      const worst = group.reduce((a, b) => (a.index > b.index ? a : b));
      samples.splice(samples.indexOf(worst), 1);
    }
  };

  const showProgress = opts.progress ?? true;
  const bar =
    showProgress && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: 'certify |{bar}| {value}/{total} images | {speed} img/s | ETA {eta_formatted}',
            hideCursor: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
  const log = (line: string) => {
    if (showProgress) process.stderr.write(line + '\n');
  };

  const init: WorkerInit = { modelDir, backend, threats, heatmapThreat };
  const executors: BatchExecutor[] =
    useWorkers === 1 ? [new InProcessExecutor(init)] : Array.from({ length: useWorkers }, () => new WorkerExecutor(init));
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    // Workers stop at once; their in-flight batches are simply redone on --resume.
    for (const e of executors) if (e instanceof WorkerExecutor) void e.close();
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  try {
    if (batches.length > 0 && !interrupted) {
      const lines = await Promise.all(executors.map((e) => e.start()));
      backendLine = lines[0] ?? backendLine;
      tReady = performance.now();
      log(`${backendLine}${useWorkers > 1 ? ` workers=${useWorkers}` : ''}`);
      log(`model: ${metadata.architecture} (${parameters} parameters) on ${datasetName} test, ${total} images; threats: ${threats.map((t) => t.id).join(', ')}`);
      if (previous) log(`resuming: ${done.size} of ${total} images already certified`);
      bar?.start(total, done.size, { speed: '0.0' });
      let next = 0;
      const loop = async (e: BatchExecutor) => {
        while (!interrupted && next < batches.length) {
          const batch = batches[next++]!;
          let outcome: BatchOutcome;
          try {
            outcome = await e.certify(batch);
          } catch (err) {
            if (interrupted) return;
            throw err;
          }
          if (interrupted) return;
          outcome.results.forEach((r, j) => {
            done.set(r.index, r);
            keepSample(outcome, batch, j);
          });
          imagesThisRun += batch.indices.length;
          const seconds = (performance.now() - (tReady ?? t0)) / 1000;
          bar?.update(done.size, { speed: (imagesThisRun / seconds).toFixed(1) });
          save(true, false);
          // In-process certification resolves its promises as microtasks only, which would
          // starve the event loop: yield a macrotask so SIGINT (and the bar's timer) get a turn.
          await new Promise((res) => setImmediate(res));
        }
      };
      await Promise.all(executors.map(loop));
    }
  } finally {
    bar?.stop();
    opts.signal?.removeEventListener('abort', onAbort);
    await Promise.all(executors.map((e) => e.close()));
  }

  const partial = done.size < total;
  const results = snapshot(partial);
  if (opts.json) writeResults(resolve(opts.json), results);
  if (opts.report) writeFileAtomic(resolve(opts.report), buildReportHtml(results));
  if (showProgress) {
    const t = results.timing.runs.at(-1)!;
    log(
      `${interrupted ? 'interrupted' : 'done'}: ${done.size}/${total} images; this run ${t.images} images in ${t.seconds.toFixed(1)} s ` +
        `(start-up ${t.startupSeconds.toFixed(1)} s, then ${t.imagesPerSecond.toFixed(1)} images/s with ${t.workers} worker${t.workers > 1 ? 's' : ''})`,
    );
    for (const table of resultTables(results)) process.stdout.write(formatTable(table) + '\n\n');
    if (partial) log(`results are partial${opts.json ? `; continue with --resume --json ${opts.json}` : ''}`);
  }
  return { results, interrupted };
}
