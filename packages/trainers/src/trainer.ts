import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf, Rng, PatchcertError, currentBackend, initBackend } from '@patchcert/backend';
import { buildModel, loadModel, saveModel, type SequentialModel } from '@patchcert/models';
import { loadDataset, batches, type ImageDataset } from '@patchcert/datasets';
import type { MarginStrategy, MarginStrategyContext } from '@patchcert/bounds';
import { Adam } from './adam.js';
import { certificateLoss } from './losses.js';
import { batchEps, epochEpsRange, learningRate, NATURAL_EPS_THRESHOLD } from './schedules.js';
import { describeThreat, type TrainConfig } from './train-config.js';
import { createStrategy, strategyRun } from './strategy-registry.js';
import './register-strategies.js';
import { naturalTraining, isNaturalTraining } from './strategies/natural-training.js';
import { saveCheckpoint, loadCheckpoint, findCheckpoint, CHECKPOINT_DIR } from './checkpoint.js';
import { makeThreat } from './make-threat.js';
import type { EpochMetrics, EvaluationResult, TrainEvent, TrainResult } from './trainer-events.js';

/** Options of {@link train}; every field but `out` is optional. */
export interface TrainOptions {
  /** Output directory: `checkpoint/`, `metrics.jsonl`, `model/`, `summary.json`. */
  out: string;
  /**
   * Continue from `<out>/checkpoint` (the last completed epoch) when it exists.
   * @defaultValue false (start fresh; an old checkpoint in `out` is replaced)
   */
  resume?: boolean;
  /** Receives progress events. */
  onEvent?: (event: TrainEvent) => void;
  /** Stops the run after the current batch; the last epoch checkpoint stays. */
  signal?: AbortSignal;
  /**
   * Run the final certified evaluation on the test set.
   * @defaultValue true
   */
  finalEval?: boolean;
  /** Datasets to use instead of loading `config.dataset` (tests, benchmarks). */
  datasets?: { train: ImageDataset; test: ImageDataset };
  /**
   * A saved model directory whose weights start a fresh run instead of the seeded init
   * (fine-tuning, e.g. all-patch training after a random(k) run). Its layers and input shape must
   * be the ones the config builds. Ignored when resuming (the checkpoint holds the weights).
   */
  init?: string;
}

/** Replaces `built`'s weights by those of the saved model in `dir`, which must have the same layers. */
async function warmStart(built: SequentialModel, dir: string): Promise<SequentialModel> {
  const saved = await loadModel(dir);
  const same =
    JSON.stringify(saved.layers) === JSON.stringify(built.layers) &&
    JSON.stringify(saved.inputShape) === JSON.stringify(built.inputShape) &&
    saved.numClasses === built.numClasses;
  if (!same) {
    saved.dispose();
    built.dispose();
    throw new PatchcertError(
      'CONFIG_INVALID',
      `Error in train: the init model ${dir} must have the layers and input shape the config builds (${built.metadata.architecture}, [${built.inputShape}]), but it has ${saved.metadata.architecture}, [${saved.inputShape}].`,
    );
  }
  saved.metadata = built.metadata;
  built.dispose();
  return saved;
}

/** The fields a resumed run must share with its checkpoint (epochs and eval may change). */
function resumeKey(c: TrainConfig): string {
  const { epochs: _e, eval: _v, name: _n, description: _d, ...rest } = c;
  return JSON.stringify(rest);
}

function checkAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted ?? false;
}

/**
 * Certificate training from a config: builds (or resumes) the model, trains epoch by epoch with
 * the configured strategy and the reference schedules, certifies a held-out subset after every
 * epoch, writes `metrics.jsonl` and an atomic checkpoint after every epoch, and at the end
 * certifies the test set and saves the model to `<out>/model`. The strategy's `StrategyRun`
 * decides the model's input, the warm-up, train accuracy and the certificate (IBP for IBP
 * strategies, the smoothed classifier's for the ablation ones).
 *
 * @param config - a validated config ({@link parseTrainConfig}).
 * @param options - output directory, resume, events.
 * @returns the history, the final evaluation and where the model is.
 * @throws PatchcertError `CONFIG_INVALID` when resuming a checkpoint made with another config, or
 *   when an ablation strategy does not fit the dataset's images.
 * @example
 * const result = await train(loadTrainConfig('configs/quick/mnist-mlp-p22-random10.json'), { out: 'runs/x' });
 */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  if (!currentBackend()) await initBackend();
  const emit = options.onEvent ?? (() => {});
  const out = options.out;
  mkdirSync(out, { recursive: true });

  const trainSet = options.datasets?.train ?? (await loadDataset(config.dataset, { split: 'train', limit: config.data.trainLimit }));
  const testLimit = config.eval.finalLimit === undefined ? undefined : Math.max(config.eval.finalLimit, config.eval.epochLimit);
  const testSet = options.datasets?.test ?? (await loadDataset(config.dataset, { split: 'test', limit: testLimit }));

  const threat = makeThreat(config.threat);
  // IBP strategies share one run; ablation strategies change the model input, warm-up, train
  // accuracy and certificate through theirs (see StrategyRun).
  const run = strategyRun(config);
  const rng = new Rng(config.seed);
  let model: SequentialModel;
  let startEpoch = 0;
  let history: EpochMetrics[] = [];
  let trainSecondsTotal = 0;
  let strategyState: Record<string, unknown> | undefined;
  let rngState: ReturnType<Rng['getState']> | undefined;
  let adamState: Awaited<ReturnType<typeof loadCheckpoint>>['adam'] | undefined;
  const resumed = Boolean(options.resume && findCheckpoint(out));
  if (resumed) {
    const ck = await loadCheckpoint(out);
    if (resumeKey(ck.state.config) !== resumeKey(config)) {
      ck.model.dispose();
      throw new PatchcertError(
        'CONFIG_INVALID',
        `Error in train: the config must match the checkpoint in ${ck.dir} to resume (only epochs and eval may change), but it differs; start a fresh run in another --out.`,
      );
    }
    model = ck.model;
    startEpoch = ck.state.epoch + 1;
    history = ck.state.history;
    trainSecondsTotal = ck.state.trainSeconds;
    rngState = ck.state.rng;
    strategyState = ck.state.strategy;
    adamState = ck.adam;
  } else {
    for (const name of [CHECKPOINT_DIR, `${CHECKPOINT_DIR}.old`, 'metrics.jsonl', 'summary.json']) rmSync(join(out, name), { recursive: true, force: true });
    model = buildModel(config.architecture, {
      ...run.modelInput(trainSet),
      classNames: trainSet.classNames,
      dataset: config.dataset,
      ...(config.hidden ? { hidden: config.hidden } : {}),
      seed: config.seed,
    });
    if (options.init !== undefined) model = await warmStart(model, options.init);
  }
  // A warm start is recorded (and kept across resumes, where options.init is not needed).
  const init = options.init ?? (model.metadata.training?.['init'] as string | undefined);
  model.metadata.training = { threatModel: describeThreat(config.threat), strategy: config.strategy.type, epochs: config.epochs, seed: config.seed, ...run.metadata, ...(init !== undefined ? { init } : {}) };

  const vars = model.trainableVariables();
  const adam = new Adam(vars);
  if (adamState) adam.setState(adamState);
  // The strategy is built from the fresh generator in both a new and a resumed run, so any draw
  // it makes at construction is the same; the checkpoint's stream and state are restored after.
  const strategy: MarginStrategy = await createStrategy(config.strategy, { threat, model, config, rng });
  if (rngState) rng.setState(rngState);
  if (strategyState && strategy.setState) await strategy.setState(strategyState);
  const natural = naturalTraining();
  // metrics.jsonl is rebuilt from the checkpoint's history, so rows of a killed epoch vanish.
  writeFileSync(join(out, 'metrics.jsonl'), history.map((h) => JSON.stringify(h) + '\n').join(''));

  const N = trainSet.count;
  const bs = config.batchSize;
  const batchesPerEpoch = Math.ceil(N / bs);
  const evalImages = Math.min(config.eval.epochLimit, testSet.count);
  const sched = { start: config.schedule.start, length: config.schedule.length };
  emit({ type: 'start', config, trainImages: N, evalImages, batchesPerEpoch, startEpoch, parameters: model.parameterCount(), strategy: strategy.name, resumed });

  let interrupted = false;
  try {
    for (let epoch = startEpoch; epoch < config.epochs && !interrupted; epoch++) {
      const lr = learningRate(epoch, { ...sched, lr: config.lr, decayStep: config.lrDecay.step, decayFactor: config.lrDecay.factor });
      const { start: epsStart, end: epsEnd } = epochEpsRange(epoch, sched);
      const naturalEpoch = run.warmup && epsEnd < NATURAL_EPS_THRESHOLD;
      emit({ type: 'epoch-start', epoch, epochs: config.epochs, lr, epsStart, epsEnd, natural: naturalEpoch, batches: batchesPerEpoch });
      const s = naturalEpoch ? natural : strategy;
      const cleanMargins = isNaturalTraining(s);
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      let lossSum = 0;
      let correctSum = 0;
      let seen = 0;
      let b = 0;
      let lastEps = epsStart;
      for (const batch of batches(trainSet, { batchSize: bs, shuffle: true, rng, augment: config.augment })) {
        const eps = batchEps(epoch, b, N, bs, sched);
        lastEps = eps;
        // threat, lr and epoch are there for strategies that need them (guided: the U-Net's own Adam).
        const ctx: MarginStrategyContext = { model, images: batch.x, labels: batch.y, eps, rng, training: true, threat, lr, epoch };
        let correct: tf.Scalar | undefined;
        try {
          const { value, grads } = tf.variableGrads(() => {
            const margins = s.margins(ctx);
            correct = tf.keep(run.trainCorrect(ctx, margins, cleanMargins));
            return certificateLoss(margins, batch.y);
          }, vars);
          adam.step(grads, lr);
          s.afterStep?.(ctx);
          const n = batch.x.shape[0];
          const [lv, cv] = [(await value.data())[0]!, (await correct!.data())[0]!];
          tf.dispose([value, ...Object.values(grads)]);
          lossSum += lv * n;
          correctSum += cv;
          seen += n;
          const secs = (performance.now() - t0) / 1000;
          emit({ type: 'batch', epoch, batch: b, batches: batchesPerEpoch, loss: lv, eps, imagesPerSecond: seen / Math.max(secs, 1e-9) });
        } finally {
          tf.dispose([batch.x, batch.y, ...(correct ? [correct] : [])]);
        }
        b++;
        // A macrotask turn, so that a SIGINT handler (or any abort from an event) can run: the
        // awaits above resolve as microtasks, which never let the event loop in.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (checkAborted(options.signal)) {
          interrupted = true;
          break;
        }
      }
      if (interrupted) break;
      const trainSeconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const trainCpuSeconds = (cpu.user + cpu.system) / 1e6;
      trainSecondsTotal += trainSeconds;

      let cleanAccuracy: number | null = null;
      let certifiedAccuracy: number | null = null;
      let evalSeconds = 0;
      const last = epoch === config.epochs - 1;
      if (evalImages > 0 && ((epoch + 1) % config.eval.every === 0 || last)) {
        emit({ type: 'eval-start', epoch, images: evalImages });
        const r = await run.evaluate(model, testSet, threat, {
          limit: evalImages,
          batchSize: config.eval.batchSize,
          onProgress: (done, images) => emit({ type: 'eval-progress', epoch, done, images }),
        });
        cleanAccuracy = r.cleanAccuracy;
        certifiedAccuracy = r.certifiedAccuracy;
        evalSeconds = r.seconds;
      }
      const metrics: EpochMetrics = {
        epoch,
        lr,
        epsStart,
        epsEnd,
        epsLastBatch: lastEps,
        natural: naturalEpoch,
        trainLoss: seen ? lossSum / seen : NaN,
        trainAccuracy: seen ? correctSum / seen : NaN,
        cleanAccuracy,
        certifiedAccuracy,
        evalImages: cleanAccuracy === null ? 0 : evalImages,
        trainSeconds,
        evalSeconds,
        imagesPerSecond: seen / Math.max(trainSeconds, 1e-9),
        trainCpuSeconds,
        imagesPerCpuSecond: seen / Math.max(trainCpuSeconds, 1e-9),
        rssMiB: Math.round(process.memoryUsage().rss / 1048576),
        numTensors: tf.memory().numTensors,
      };
      history.push(metrics);
      const dir = await saveCheckpoint(out, model, await adam.getState(), {
        epoch,
        config,
        rng: rng.getState(),
        ...(strategy.getState ? { strategy: await strategy.getState() } : {}),
        history,
        trainSeconds: trainSecondsTotal,
      });
      writeFileSync(join(out, 'metrics.jsonl'), JSON.stringify(metrics) + '\n', { flag: 'a' });
      emit({ type: 'epoch-end', metrics });
      emit({ type: 'checkpoint', epoch, dir });
      if (checkAborted(options.signal)) interrupted = true;
    }

    let final: EvaluationResult | undefined;
    const modelDir = join(out, 'model');
    if (!interrupted) {
      if (options.finalEval !== false) {
        const images = Math.min(config.eval.finalLimit ?? testSet.count, testSet.count);
        emit({ type: 'eval-start', epoch: 'final', images });
        final = await run.evaluate(model, testSet, threat, {
          limit: images,
          batchSize: config.eval.batchSize,
          onProgress: (done, total) => emit({ type: 'eval-progress', epoch: 'final', done, images: total }),
        });
        emit({ type: 'final', result: final });
        model.metadata.training = { ...model.metadata.training, cleanAccuracy: final.cleanAccuracy, certifiedAccuracy: final.certifiedAccuracy, evalImages: final.images };
      }
      const tmp = `${modelDir}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      await saveModel(model, tmp);
      rmSync(modelDir, { recursive: true, force: true });
      renameSync(tmp, modelDir);
    }
    const result: TrainResult = { config, modelDir: existsSync(modelDir) ? modelDir : '', history, trainSeconds: trainSecondsTotal, interrupted, ...(final ? { final } : {}) };
    if (!interrupted) writeFileSync(join(out, 'summary.json'), JSON.stringify({ ...result, history: undefined, epochs: history.length }, null, 2));
    emit({ type: 'done', result });
    return result;
  } finally {
    adam.dispose();
    strategy.dispose?.();
    model.dispose();
  }
}
