import { Worker, MessageChannel } from 'node:worker_threads';
import { tf, currentBackend, assert, PatchcertError } from '@patchcert/backend';
import { UNetGuide, type UNetGuideOptions, type UNetGuideState } from './unet-guide.js';
import { mergeGuidedSamples, type GuidedSample, type RandomWords } from './guided-sampler.js';
import { SharedGroup, sharedGroupBytes } from './internal/shared-group.js';
import { SyncPort } from './internal/sync-port.js';
import type { GuideWorkerData, PoolBuffers, PoolCommand, WorkerReply } from './internal/pool-protocol.js';

/** Options of {@link UNetGuidePool}: a {@link UNetGuide}'s, and how many replicas. */
export interface UNetGuidePoolOptions extends Omit<UNetGuideOptions, 'group'> {
  /** Worker threads, each with a replica of the U-Net and a slice of every batch (≥ 2 to gain). */
  workers: number;
  /** Start from this state (as {@link UNetGuide.getState}) instead of `seed`'s fresh U-Net. */
  state?: UNetGuideState;
}

/** How long the pool waits for a worker's part of a step (or its start) before it reports a hang. */
const REPLY_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Young generation of each worker's JS heap (V8's default is about a third of this). A U-Net
 * step makes ~7 MB of short-lived tfjs bookkeeping objects; with the default, some outlive a
 * scavenge and a full collection follows every ~2 steps, stalling the other replicas at the next
 * sum. Measured (2 workers, 2 cores, 30 steps, alternating): 20 instead of ~50 full collections
 * in the workers, 239-254 instead of 263-283 CPU-ms a step.
 */
const WORKER_YOUNG_GENERATION_MB = 64;

/**
 * A {@link UNetGuide} trained data-parallel on worker threads: each worker holds a replica of the
 * U-Net and its Adam and takes a slice of every batch. BatchNorm normalizes with the whole
 * batch's statistics and the replicas add their gradients before one identical Adam step (see
 * internal/shared-group.ts), so a step computes what one UNetGuide computes, up to float
 * summation order. The draw takes the run generator's words in the same order too: the pool
 * draws them for the batch and each worker replays its slice.
 *
 * Calls block until the workers answer (Atomics.wait, as a synchronous training step needs),
 * except that a fit goes on in the workers after {@link sampleAndStartFit} returns, while the
 * caller runs its own backward pass; the next call waits for it.
 *
 * @example
 * const pool = new UNetGuidePool({ inputShape: [28, 28, 1], patch: 2, workers: 2 });
 * const sample = pool.sampleAndStartFit(x, rng, (s) => trueMargins(s)); // U-Net update runs on
 * pool.lastLoss; // waits for it
 * pool.dispose();
 */
export class UNetGuidePool {
  readonly workers: number;
  readonly inputShape: [number, number, number];
  readonly patch: [number, number];
  readonly classes: number;
  readonly drawsPerClass: number;
  readonly grid: [number, number];
  private readonly threads: Worker[] = [];
  private readonly ports: SyncPort[] = [];
  /** The pool's view of the group's memory, to abort the workers' waits when the pool fails. */
  private readonly group: SharedGroup;
  private buffers: (PoolBuffers & { images: number }) | null = null;
  private pendingFit: number[] | null = null;
  private loss = Number.NaN;
  private lr: number;
  private broken: string | null = null;

  /**
   * Starts the workers and waits until each holds its replica.
   * @throws PatchcertError `INVALID_OPTION` for a bad option (as UNetGuide) or worker count;
   *   `INTERNAL` when a worker does not start.
   */
  constructor(options: UNetGuidePoolOptions) {
    const { workers, state, ...guideOptions } = options;
    assert(Number.isInteger(workers) && workers >= 1 && workers <= 64, () => `Error in UNetGuidePool: workers must be an integer in [1, 64], but got ${workers}.`, 'INVALID_OPTION');
    this.workers = workers;
    // A replica built here checks the options with UNetGuide's own messages and sizes the sums.
    const probe = new UNetGuide(guideOptions);
    this.inputShape = [...probe.unet.inputShape];
    this.patch = [...probe.patch];
    this.classes = probe.unet.classes;
    this.drawsPerClass = probe.drawsPerClass;
    this.grid = probe.grid;
    this.lr = probe.learningRate;
    const capacity = probe.unet.namedVariables().reduce((s, [, v]) => s + v.size, 0);
    probe.dispose();

    const signals = new SharedArrayBuffer(8 * workers);
    const groupMemory = new SharedArrayBuffer(sharedGroupBytes(workers, capacity));
    this.group = new SharedGroup(groupMemory, 0, workers, capacity);
    const backend = currentBackend()?.name ?? tf.getBackend();
    for (let rank = 0; rank < workers; rank++) {
      const { port1, port2 } = new MessageChannel();
      const data: GuideWorkerData = {
        rank, replicas: workers, backend, options: guideOptions, state: state ?? null, port: port2,
        signals, toWorker: 2 * rank, toMain: 2 * rank + 1, group: groupMemory, capacity,
      };
      const thread = startWorker(data);
      thread.unref();
      this.threads.push(thread);
      this.ports.push(new SyncPort(port1, new Int32Array(signals), 2 * rank, 2 * rank + 1));
    }
    try {
      this.collect(range(workers), 'done', 'its start');
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** The U-Net's Adam step size (sent to the workers with the next command that needs it). */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(lr: number) {
    if (lr === this.lr) return;
    this.settle();
    this.broadcast({ op: 'learningRate', value: lr });
    this.lr = lr;
  }

  /** The MSE of the last fit, before its update; waits for the fit to finish. */
  get lastLoss(): number {
    this.settle();
    this.check();
    return this.loss;
  }

  /**
   * {@link UNetGuide.sampleAndFit} on the workers: draws the batch's locations from the train-mode
   * prediction, calls `bound` for their true margins and returns the draw, while the workers go on
   * to fit the U-Net to those margins; the next call waits for that.
   *
   * @param rng - the run's generator: the pool draws the batch's words from it, as one UNetGuide would.
   * @throws PatchcertError `SHAPE_MISMATCH` for images of another shape or margins that do not
   *   match the draw; a worker's failure, with its code (the pool cannot be used after it).
   */
  sampleAndStartFit(x: tf.Tensor4D, rng: RandomWords, bound: (sample: GuidedSample) => ArrayLike<number>): GuidedSample {
    this.settle();
    const { sample, ranks, slices, parts } = this.draw(x, rng, 'fit');
    const b = this.buffers!;
    try {
      const targets = bound(sample);
      const { width, classes, batch } = sample;
      if (targets.length !== batch * width * classes) {
        throw new PatchcertError('SHAPE_MISMATCH', `Error in UNetGuidePool.sampleAndStartFit: margins must be [${batch}, ${width}, ${classes}], but got ${targets.length} values.`);
      }
      // Each worker reads its images' margins in its own sample's layout (its width ≤ the batch's).
      const stride = this.targetStride;
      for (const r of ranks) {
        const [lo, hi] = slices[r]!;
        const w = parts[r]!.width;
        for (let n = lo; n < hi; n++) {
          for (let slot = 0; slot < w; slot++) {
            const from = (n * width + slot) * classes;
            b.targets.set(sliceOf(targets, from, from + classes), lo * stride + ((n - lo) * w + slot) * classes);
          }
        }
      }
    } catch (e) {
      this.fail('the caller failed between the draw and the fit');
      throw e;
    }
    for (const r of ranks) this.ports[r]!.send({ op: 'targets' } satisfies PoolCommand);
    this.pendingFit = range(this.workers);
    return sample;
  }

  /**
   * {@link UNetGuide.sample} on the workers: the draw from the eval-mode prediction (running
   * BatchNorm statistics), each worker predicting its slice of the batch.
   */
  sample(x: tf.Tensor4D, rng: RandomWords): GuidedSample {
    this.settle();
    const { sample } = this.draw(x, rng, 'sample');
    this.collect(range(this.workers), 'done', 'the end of its draw');
    return sample;
  }

  /** Zeroes the summed gradients of `accumulateGradients` in every replica. */
  startEpoch(): void {
    this.settle();
    this.broadcast({ op: 'startEpoch' });
  }

  /** Rank 0's state: every replica holds the same. Same format as {@link UNetGuide.getState}. */
  getState(): UNetGuideState {
    this.settle();
    this.check();
    this.ports[0]!.send({ op: 'getState' } satisfies PoolCommand);
    return this.collect([0], 'state', 'its state')[0] as UNetGuideState;
  }

  /** Sets every replica's state (a {@link UNetGuide.getState} of the same architecture). */
  setState(state: UNetGuideState): void {
    this.settle();
    this.broadcast({ op: 'setState', state });
    this.lr = state.adam?.learningRate ?? this.lr;
  }

  /** Stops the workers (waiting for a running fit first). */
  dispose(): void {
    try {
      if (!this.broken) this.settle();
    } catch {
      // Disposing after a failure: the workers are stopped below either way.
    }
    for (const p of this.ports) {
      try {
        p.send({ op: 'close' } satisfies PoolCommand);
      } catch {
        // The port is closed already.
      }
    }
    for (const t of this.threads) void t.terminate();
    this.threads.length = 0;
    this.broken ??= 'Error in UNetGuidePool: the pool was disposed.';
  }

  /** Dispatches a fit or sample, draws the noise meanwhile and returns the merged draw. */
  private draw(x: tf.Tensor4D, rng: RandomWords, op: 'fit' | 'sample') {
    this.check();
    const [h, w, c] = this.inputShape;
    if (x.rank !== 4 || x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== c || x.shape[0] < 1) {
      throw new PatchcertError('SHAPE_MISMATCH', `Error in UNetGuidePool: images must be [batch ≥ 1, ${h}, ${w}, ${c}], but got [${x.shape.join(', ')}].`);
    }
    const batch = x.shape[0];
    const b = this.ensureBuffers(batch);
    b.x.set(x.dataSync());
    const slices = split(batch, this.workers);
    const active = Math.min(batch, this.workers);
    for (let r = 0; r < this.workers; r++) {
      const [lo, hi] = slices[r]!;
      this.ports[r]!.send({ op, lo, hi, active, targetStride: this.targetStride } satisfies PoolCommand);
    }
    const ranks = range(active);
    // The workers run their forward passes meanwhile.
    const words = this.grid[0] * this.grid[1] * this.classes;
    rng.fillU32(b.noise.subarray(0, batch * words));
    for (const r of ranks) this.ports[r]!.send({ op: 'noise' } satisfies PoolCommand);
    const parts = this.collect(ranks, 'sample', 'its draw') as GuidedSample[];
    return { sample: mergeGuidedSamples(parts), ranks, slices, parts };
  }

  /** Largest row of true margins per image: one per draw. */
  private get targetStride(): number {
    return this.classes * this.drawsPerClass * this.classes;
  }

  private ensureBuffers(batch: number): PoolBuffers {
    if (this.buffers && this.buffers.images >= batch) return this.buffers;
    const [h, w, c] = this.inputShape;
    const x = new SharedArrayBuffer(batch * h * w * c * 4);
    const noise = new SharedArrayBuffer(batch * this.grid[0] * this.grid[1] * this.classes * 4);
    const targets = new SharedArrayBuffer(batch * this.targetStride * 4);
    this.broadcast({ op: 'buffers', x, noise, targets });
    this.buffers = { images: batch, x: new Float32Array(x), noise: new Uint32Array(noise), targets: new Float32Array(targets) };
    return this.buffers;
  }

  /** Waits for the fit in flight (and idle replicas' part of it); sums the replicas' losses. */
  private settle(): void {
    const ranks = this.pendingFit;
    if (!ranks) return;
    this.pendingFit = null;
    const losses = this.collect(ranks, 'done', 'the end of its fit') as number[];
    if (ranks.length === this.workers) this.loss = losses.reduce((a, b) => a + b, 0);
  }

  /** Sends a command to every worker and waits for each to finish it. */
  private broadcast(m: PoolCommand): void {
    this.check();
    for (const p of this.ports) p.send(m);
    this.collect(range(this.workers), 'done', `its '${m.op}'`);
  }

  /**
   * One reply of each rank: the samples, states or losses. A failure aborts the other workers,
   * waits for their replies and throws the first one that did not follow another's.
   */
  private collect(ranks: number[], expect: 'done' | 'sample' | 'state', what: string): unknown[] {
    const out: unknown[] = [];
    const errors: Array<WorkerReply & { op: 'error' }> = [];
    for (const r of ranks) {
      let reply: WorkerReply;
      try {
        reply = this.ports[r]!.receive<WorkerReply>(REPLY_TIMEOUT_MS, `U-Net worker ${r}'s reply (${what})`);
      } catch (e) {
        this.fail(`worker ${r} did not answer`);
        throw e;
      }
      if (reply.op === 'error') {
        if (errors.length === 0) this.group.abort();
        errors.push(reply);
        continue;
      }
      if (reply.op !== expect) {
        errors.push({ op: 'error', code: 'INTERNAL', message: `Error in UNetGuidePool: worker ${r} sent '${reply.op}' for ${what}, not '${expect}'.`, peer: false });
        this.group.abort();
        continue;
      }
      out.push(reply.op === 'done' ? reply.loss : reply.op === 'sample' ? reply.sample : reply.state);
    }
    if (errors.length > 0) {
      const first = errors.find((e) => !e.peer) ?? errors[0]!;
      this.fail(first.message);
      throw new PatchcertError(first.code, first.message);
    }
    return out;
  }

  /** Marks the pool unusable (replicas may differ after a failed step) and stops the workers' waits. */
  private fail(reason: string): void {
    this.broken ??= `Error in UNetGuidePool: the pool cannot be used after a failure (${reason}); build a new one from the last saved state.`;
    this.pendingFit = null;
    this.group.abort();
  }

  private check(): void {
    if (this.broken) throw new PatchcertError('INTERNAL', this.broken);
  }
}

/** `[lo, hi)` image ranges of `batch` over `parts` replicas, the first ones one larger. */
function split(batch: number, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const base = Math.floor(batch / parts);
  const extra = batch % parts;
  let lo = 0;
  for (let r = 0; r < parts; r++) {
    const hi = lo + base + (r < extra ? 1 : 0);
    out.push([lo, hi]);
    lo = hi;
  }
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function sliceOf(a: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  return ArrayBuffer.isView(a) ? (a as unknown as Float32Array).subarray(from, to) : Array.prototype.slice.call(a, from, to);
}

/**
 * The worker thread of one replica. From TypeScript sources (tests, `--conditions=@patchcert/source`)
 * the worker registers tsx itself first: Node 20 does not pass `--import` loaders on to workers.
 */
function startWorker(data: GuideWorkerData): Worker {
  const options = { workerData: data, transferList: [data.port], resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } };
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const entry = new URL(`./internal/guide-worker${ext}`, import.meta.url);
  if (ext === '.js') return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
