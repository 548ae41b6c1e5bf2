import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { BACKEND_NAMES, describeBackend, env, initBackend, PatchcertError, toBackendName } from '@patchcert/backend';
import { loadDataset, subsetIndices, type ImageDataset } from '@patchcert/datasets';
import { loadModel } from '@patchcert/models';
import { ablationModeOf, bandCount, type AblationMode } from '@patchcert/ablation';
import { InProcessExecutor, WorkerExecutor, type BatchExecutor } from './internal/executors.js';
import { prepareThreats, type BatchOutcome, type ImageBatch } from './internal/certify-images.js';
import { checkThreatsFit, parsePatchList, parseShapeList, parseSparseList, type ThreatSpec } from './internal/threat-spec.js';
import type { WorkerInit } from './internal/worker-protocol.js';
import {
  DEFAULT_RS_SAMPLING,
  describeMode,
  methodCovers,
  methodSignature,
  modeServes,
  neededMode,
  parseMethodList,
  type AblationMethod,
  type CertifyMethod,
  type MethodPlan,
  type RandomAblationSampling,
} from './internal/method-spec.js';
import { readResults, writeFileAtomic, writeResults } from './results-file.js';
import { RESULTS_SCHEMA, type CertifyResults, type ImageResult, type MethodResult, type ReportSample, type RunTiming } from './results.js';
import { buildReportHtml } from './report-html.js';
import { formatTable, resultMethods, resultTables, summarize } from './summary.js';

/** Options of {@link runCertify}; every field is optional except the model directory. */
export interface CertifyRunOptions {
  /**
   * Directory written by `saveModel`: the IBP model, or an ablation classifier when `ibp` is not
   * among the methods.
   */
  modelDir: string;
  /** `--method` list from `ibp`, `derandomized`, `random-ablation`. @defaultValue 'ibp' */
  method?: string;
  /**
   * Ablation classifiers (`--ablation-model`, repeatable) for the ablation methods; each serves the
   * method its recorded mode fits (`ablationModeOf`): column/block → derandomized,
   * random-ablation → random-ablation. @defaultValue none
   */
  ablationModels?: string[];
  /** Random ablation's selection samples. @defaultValue 100 */
  rsN0?: number;
  /** Random ablation's estimation samples. @defaultValue 1000 */
  rsN?: number;
  /** Random ablation's failure probability, in (0, 1). @defaultValue 0.05 */
  rsAlpha?: number;
  /** Random ablation's seed (image i draws from a seed derived from this and i). @defaultValue 0 */
  rsSeed?: number;
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
  /** Images per certify call (verdicts do not depend on it). @defaultValue 32 (bounds' own image group; the reference evaluates 10) */
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

/** A model directory the CLI was given, loaded far enough to plan with. */
interface ModelInfo {
  dir: string;
  /** How the user named it, for messages: `<model-dir>` or `--ablation-model`. */
  flag: string;
  metadata: CertifyResults['model']['metadata'] & { inputShape: [number, number, number] };
  parameters: number;
  mode: AblationMode | null;
}

async function readModelInfo(dir: string, flag: string): Promise<ModelInfo> {
  const model = await loadModel(dir);
  try {
    const metadata = model.metadata as unknown as ModelInfo['metadata'];
    return { dir, flag, metadata, parameters: model.parameterCount(), mode: ablationModeOf(model) };
  } finally {
    model.dispose();
  }
}

function checkDir(dir: string, flag: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new PatchcertError('FILE_NOT_FOUND', `Error in certify: ${flag} must be a directory written by saveModel, but ${abs} does not exist.`);
  }
  return abs;
}

function checkSampling(opts: CertifyRunOptions): RandomAblationSampling {
  const n0 = positive(opts.rsN0, DEFAULT_RS_SAMPLING.n0, '--rs-n0');
  const n = positive(opts.rsN, DEFAULT_RS_SAMPLING.n, '--rs-n');
  const alpha = opts.rsAlpha ?? DEFAULT_RS_SAMPLING.alpha;
  if (!(alpha > 0 && alpha < 1)) throw new PatchcertError('INVALID_OPTION', `Error in certify: --rs-alpha must be a number in (0, 1), but got ${String(opts.rsAlpha)}.`);
  const seed = opts.rsSeed ?? DEFAULT_RS_SAMPLING.seed;
  if (!Number.isInteger(seed) || seed < 0) throw new PatchcertError('INVALID_OPTION', `Error in certify: --rs-seed must be an integer >= 0, but got ${String(opts.rsSeed)}.`);
  return { n0, n, alpha, seed };
}

/**
 * Assigns a model to every method: IBP certifies `<model-dir>`, which must not be an ablation
 * classifier; each ablation method takes the one ablation classifier whose recorded mode fits it,
 * from `--ablation-model` or, when `ibp` is not requested, `<model-dir>` itself.
 * @throws PatchcertError `INVALID_OPTION` for a missing, mismatched, ambiguous or unused model.
 */
function planMethods(methods: readonly CertifyMethod[], primary: ModelInfo, extra: readonly ModelInfo[], sampling: RandomAblationSampling): MethodPlan[] {
  const list = methods.join(',');
  if (primary.mode && methods.includes('ibp')) {
    throw new PatchcertError(
      'INVALID_OPTION',
      `Error in certify: --method ibp needs an IBP model as <model-dir>, but ${primary.dir} is an ablation classifier (${describeMode(primary.mode)}, input [${primary.metadata.inputShape}]); ` +
        'pass the IBP model as <model-dir> and this one with --ablation-model.',
    );
  }
  for (const m of extra) {
    if (!m.mode) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in certify: --ablation-model must be an ablation classifier trained by trainAblationClassifier (with metadata.training.ablation), but ${m.dir} has no ablation mode.`,
      );
    }
  }
  const candidates = [...(primary.mode ? [primary] : []), ...extra] as Array<ModelInfo & { mode: AblationMode }>;
  const used = new Set<ModelInfo>();
  const plans = methods.map((method): MethodPlan => {
    if (method === 'ibp') return { method, modelDir: primary.dir };
    const fit = candidates.filter((c) => modeServes(method, c.mode));
    if (fit.length === 0) {
      if (candidates.length === 0) {
        throw new PatchcertError('INVALID_OPTION', `Error in certify: --method ${method} needs ${neededMode(method)} given with --ablation-model <dir>, but none was given.`);
      }
      const got = candidates.map((c) => `${c.flag} ${c.dir} is ${describeMode(c.mode)}`).join('; ');
      throw new PatchcertError('INVALID_OPTION', `Error in certify: --method ${method} needs ${neededMode(method)}, but ${got}.`);
    }
    if (fit.length > 1) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in certify: --method ${method} must get exactly one ${neededMode(method).replace(/^an? /, '')}, but got ${fit.length}: ${fit.map((c) => c.dir).join(', ')}.`,
      );
    }
    const c = fit[0]!;
    used.add(c);
    return planFor(method, c, sampling);
  });
  const unused = candidates.filter((c) => !used.has(c));
  if (unused.length > 0) {
    const c = unused[0]!;
    const wanted = c.mode.mode === 'random-ablation' ? 'random-ablation' : 'derandomized';
    throw new PatchcertError(
      'INVALID_OPTION',
      `Error in certify: ${c.flag} ${c.dir} must serve one of the methods, but it is ${describeMode(c.mode)} and --method is ${list} (add ${wanted}).`,
    );
  }
  return plans;
}

function planFor(method: AblationMethod, c: ModelInfo & { mode: AblationMode }, sampling: RandomAblationSampling): MethodPlan {
  const mode = c.mode;
  if (method === 'derandomized' && mode.mode !== 'random-ablation') return { method, modelDir: c.dir, mode };
  if (method === 'random-ablation' && mode.mode === 'random-ablation') return { method, modelDir: c.dir, mode, sampling };
  throw new PatchcertError('INTERNAL', `Error in certify: ${method} must get a model of a fitting mode, but got ${describeMode(mode)}.`);
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
  const modelDir = checkDir(opts.modelDir, '<model-dir>');
  const ablationDirs = (opts.ablationModels ?? []).map((d) => checkDir(d, '--ablation-model'));
  const methods = parseMethodList(opts.method ?? 'ibp');
  const sampling = checkSampling(opts);
  if (opts.backend !== undefined && !(BACKEND_NAMES as readonly string[]).includes(opts.backend)) {
    throw new PatchcertError('INVALID_OPTION', `Error in certify: --backend must be one of ${BACKEND_NAMES.join(', ')}, but got '${opts.backend}'.`);
  }
  const backend = toBackendName(opts.backend ?? env.backend);
  const workers = positive(opts.workers, defaultWorkers(), '--workers');
  const batchSize = positive(opts.batchSize, 32, '--batch-size');
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
  const primary = await readModelInfo(modelDir, '<model-dir>');
  const extra: ModelInfo[] = [];
  for (const dir of ablationDirs) extra.push(await readModelInfo(dir, '--ablation-model'));
  const plans = planMethods(methods, primary, extra, sampling);
  const metadata = primary.metadata;
  const parameters = primary.parameters;
  // Images are [H, W, C]; an ablation classifier's input is [H, W, 2C].
  const [h, w, c] = primary.mode ? [metadata.inputShape[0], metadata.inputShape[1], metadata.inputShape[2] / 2] : metadata.inputShape;
  const infoOf = (dir: string) => (dir === primary.dir ? primary : extra.find((m) => m.dir === dir)!);
  for (const plan of plans) {
    const m = infoOf(plan.modelDir);
    const [mh, mw, mc] = m.metadata.inputShape;
    const want = plan.method === 'ibp' ? [h, w, c] : [h, w, 2 * c];
    if (mh !== want[0] || mw !== want[1] || mc !== want[2] || m.metadata.classNames.length !== metadata.classNames.length) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in certify: the ${plan.method} model must take [${want}] images and have ${metadata.classNames.length} classes like <model-dir>, but ${m.dir} takes [${m.metadata.inputShape}] with ${m.metadata.classNames.length} classes.`,
      );
    }
  }
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
  for (const plan of plans) {
    if (!threats.some((t) => methodCovers(plan.method, t))) {
      const wants = plan.method === 'random-ablation' ? '--sparse threats' : '--patch or --shapes threats';
      throw new PatchcertError('INVALID_OPTION', `Error in certify: --method ${plan.method} certifies ${wants}, but got only ${threats.map((t) => t.id).join(', ')}.`);
    }
  }
  const prepared = prepareThreats(threats);
  const methodInfo = plans.map((plan) => {
    const m = infoOf(plan.modelDir);
    const covered = prepared.filter((p) => methodCovers(plan.method, p.spec));
    let passesPerImage: number;
    if (plan.method === 'ibp') {
      // One clean pass, then one interval pass per patch location (one for a sparse threat).
      passesPerImage = 1 + covered.reduce((s, p) => s + (p.threat.kind === 'sparse' ? 1 : p.threat.locations(h, w)), 0);
    } else if (plan.method === 'derandomized') {
      passesPerImage = bandCount(plan.mode.mode, h, w);
    } else {
      passesPerImage = plan.sampling.n0 + plan.sampling.n;
    }
    return {
      plan,
      base: {
        method: plan.method,
        modelDir: plan.modelDir,
        architecture: m.metadata.architecture,
        parameters: m.parameters,
        ...(plan.method !== 'ibp' ? { mode: plan.mode } : {}),
        ...(plan.method === 'random-ablation' ? { sampling: plan.sampling } : {}),
        threats: covered.map((p) => p.spec.id),
        passKind: plan.method === 'ibp' ? ('interval' as const) : ('forward' as const),
        passesPerImage,
      },
    };
  });
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
  const heatmapThreat = methods.includes('ibp') ? (threats.find((t) => t.kind !== 'sparse')?.id ?? null) : null;

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
    const before = resultMethods(previous).map((m) => methodSignature(m)).join('; ');
    const now = plans.map((p) => methodSignature(p)).join('; ');
    if (before !== now) {
      throw new PatchcertError('INVALID_OPTION', `Error in certify: --resume must use the same methods as the stored run (${before}), but got ${now}.`);
    }
  }

  const done = new Map<number, ImageResult>((previous?.images ?? []).map((r) => [r.index, r]));
  const samples: ReportSample[] = [...(previous?.samples ?? [])];
  const runs: RunTiming[] = [...(previous?.timing.runs ?? [])];
  // Per-method cost over every run: images and the thread-seconds spent on them.
  const cost = new Map<CertifyMethod, { images: number; seconds: number }>(
    plans.map((p) => {
      const old = previous?.methods?.find((m) => m.method === p.method);
      return [p.method, { images: old?.images ?? 0, seconds: old?.seconds ?? 0 }];
    }),
  );
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
    const methodResults: MethodResult[] = methodInfo.map(({ plan, base }) => {
      const k = cost.get(plan.method)!;
      return { ...base, images: k.images, seconds: k.seconds, imagesPerSecond: k.seconds > 0 ? k.images / k.seconds : 0 };
    });
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
      methods: methodResults,
      skipped,
      heatmapThreat,
      timing: { seconds: totalSeconds, images: totalImages, imagesPerSecond: totalWorking > 0 ? totalImages / totalWorking : 0, runs: allRuns },
      summary: summarize(threats, images, methodResults),
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
    if (!map || map.length === 0) return;
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

  // Images that can still become samples, as of now (limits only fall as batches come back, so a
  // batch asks for at most a few maps more than it needs): below the largest index of a full group.
  const mapLimits = (): { certified: number; uncertified: number } => {
    const limit = (certified: boolean) => {
      if (!heatmapThreat || samplesPerGroup <= 0) return -Infinity;
      const group = samples.filter((s) => s.certified === certified);
      return group.length < samplesPerGroup ? Infinity : Math.max(...group.map((s) => s.index));
    };
    return { certified: limit(true), uncertified: limit(false) };
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

  const init: WorkerInit = { backend, threats, heatmapThreat, methods: plans };
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
      for (const { plan, base } of methodInfo) {
        if (plan.method === 'ibp') continue;
        log(`${plan.method}: ${base.architecture} (${base.parameters} parameters, ${describeMode(plan.mode)}) from ${plan.modelDir}, ${base.passesPerImage} forward passes per image`);
      }
      if (previous) log(`resuming: ${done.size} of ${total} images already certified`);
      bar?.start(total, done.size, { speed: '0.0' });
      let next = 0;
      const loop = async (e: BatchExecutor) => {
        while (!interrupted && next < batches.length) {
          const batch = { ...batches[next++]!, mapBelow: mapLimits() };
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
          for (const [method, sec] of Object.entries(outcome.seconds) as Array<[CertifyMethod, number]>) {
            const k = cost.get(method);
            if (k) {
              k.images += batch.indices.length;
              k.seconds += sec;
            }
          }
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
