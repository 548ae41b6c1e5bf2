import type { PatchcertErrorCode } from '@patchcert/backend';
import type { BatchOutcome, ImageBatch } from './certify-images.js';
import type { ThreatSpec } from './threat-spec.js';

/** What a certification worker gets at start (`workerData`). */
export interface WorkerInit {
  modelDir: string;
  backend: string;
  threats: ThreatSpec[];
  heatmapThreat: string | null;
}

/** Main thread → worker. */
export type WorkerRequest = { type: 'batch'; id: number; batch: ImageBatch } | { type: 'stop' };

/** Worker → main thread. */
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'done'; id: number; outcome: BatchOutcome }
  | { type: 'error'; code: PatchcertErrorCode; message: string };
