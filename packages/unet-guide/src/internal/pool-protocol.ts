// The messages between UNetGuidePool and its workers (guide-worker.ts).
import type { MessagePort } from 'node:worker_threads';
import type { PatchcertErrorCode } from '@patchcert/backend';
import type { UNetGuideOptions } from '../unet-guide.js';
import type { GuidedSample } from '../guided-sampler.js';

/** What a worker starts from. */
export interface GuideWorkerData {
  rank: number;
  replicas: number;
  /** patchcert backend name of the pool's thread. */
  backend: string;
  options: Omit<UNetGuideOptions, 'group'>;
  /** A UNetGuideState to start from, or null for a fresh U-Net from `options.seed`. */
  state: unknown;
  port: MessagePort;
  /** Int32 counters of every SyncPort; this worker's are `toWorker` and `toMain`. */
  signals: SharedArrayBuffer;
  toWorker: number;
  toMain: number;
  /** The SharedGroup's memory and its largest sum. */
  group: SharedArrayBuffer;
  capacity: number;
}

/** Shared input areas, sized for the largest batch so far. */
export interface PoolBuffers {
  /** Normalized images `[batch, H, W, C]`. */
  x: Float32Array;
  /** The run generator's words for the batch: classes·rows·cols per image. */
  noise: Uint32Array;
  /** True margins, each replica's images from `lo · targetStride` in its own sample's layout. */
  targets: Float32Array;
}

export type PoolCommand =
  | { op: 'buffers'; x: SharedArrayBuffer; noise: SharedArrayBuffer; targets: SharedArrayBuffer }
  /** Images lo … hi − 1 of the batch; ranks 0 … active − 1 hold images. Then 'noise' (and for a fit 'targets'). */
  | { op: 'fit' | 'sample'; lo: number; hi: number; active: number; targetStride: number }
  | { op: 'noise' }
  | { op: 'targets' }
  | { op: 'getState' }
  | { op: 'setState'; state: unknown }
  | { op: 'learningRate'; value: number }
  | { op: 'startEpoch' }
  | { op: 'close' };

export type WorkerReply =
  | { op: 'done'; loss: number }
  | { op: 'sample'; sample: GuidedSample }
  | { op: 'state'; state: unknown }
  /** `peer`: the group had already been aborted by another's failure when this one failed. */
  | { op: 'error'; code: PatchcertErrorCode; message: string; peer: boolean };
