import { Worker } from 'node:worker_threads';
import { describeBackend, initBackend, PatchcertError } from '@patchcert/backend';
import { Certifier, type BatchOutcome, type ImageBatch } from './certify-images.js';
import type { WorkerInit, WorkerReply, WorkerRequest } from './worker-protocol.js';

/** Something that certifies batches: the main thread itself, or one worker thread. */
export interface BatchExecutor {
  /** Starts the backend and loads every method's model; resolves to the backend line. */
  start(): Promise<string>;
  certify(batch: ImageBatch): Promise<BatchOutcome>;
  close(): Promise<void>;
}

/** Certifies in the calling thread (`--workers 1`): no start-up cost, no copies. */
export class InProcessExecutor implements BatchExecutor {
  private certifier?: Certifier;
  constructor(private readonly init: WorkerInit) {}

  async start(): Promise<string> {
    const info = await initBackend(this.init.backend);
    this.certifier = await Certifier.create(this.init);
    return describeBackend(info);
  }

  certify(batch: ImageBatch): Promise<BatchOutcome> {
    return this.certifier!.certify(batch);
  }

  async close(): Promise<void> {
    this.certifier?.dispose();
    this.certifier = undefined;
  }
}

/**
 * Node flags a worker needs to load the same sources: the export conditions of this process
 * (`--conditions=@patchcert/source` makes workspace packages resolve to their TypeScript source).
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--conditions=') || a.startsWith('-C=')) out.push(a);
    else if ((a === '--conditions' || a === '-C') && argv[i + 1]) out.push(a, argv[++i]!);
  }
  return out;
}

function spawnCertifyWorker(init: WorkerInit): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from source under tsx: `--import tsx` in a worker's execArgv registers its loader
    // too late for the worker's own entry module on Node 20, so the worker starts from a tiny
    // JavaScript bootstrap that registers tsx and then imports the TypeScript entry.
    const entry = new URL('./certify-worker.ts', self).href;
    const tsxApi = import.meta.resolve('tsx/esm/api');
    const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(boot, { eval: true, workerData: init, execArgv: workerExecArgv() });
  }
  return new Worker(new URL('./certify-worker.js', self), { workerData: init, execArgv: workerExecArgv() });
}

/** Certifies in a worker thread that runs its own backend and models. */
export class WorkerExecutor implements BatchExecutor {
  private worker?: Worker;
  private pending?: { resolve(o: BatchOutcome): void; reject(e: Error): void };
  private nextId = 0;
  private failure?: Error;

  constructor(private readonly init: WorkerInit) {}

  start(): Promise<string> {
    return new Promise((resolve, reject) => {
      const worker = spawnCertifyWorker(this.init);
      this.worker = worker;
      let ready = false;
      const fail = (err: Error) => {
        this.failure ??= err;
        if (!ready) reject(err);
        this.pending?.reject(err);
        this.pending = undefined;
      };
      worker.on('message', (msg: WorkerReply) => {
        if (msg.type === 'ready') {
          ready = true;
          resolve(msg.backend);
        } else if (msg.type === 'done') {
          const p = this.pending;
          this.pending = undefined;
          p?.resolve(msg.outcome);
        } else {
          fail(new PatchcertError(msg.code, msg.message));
        }
      });
      worker.on('error', (err) => fail(err));
      worker.on('exit', (code) => {
        if (code !== 0) fail(new PatchcertError('INTERNAL', `Error in certify: a certification worker must exit cleanly, but it exited with code ${code}.`));
      });
    });
  }

  certify(batch: ImageBatch): Promise<BatchOutcome> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const req: WorkerRequest = { type: 'batch', id: this.nextId++, batch };
      this.worker!.postMessage(req);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
