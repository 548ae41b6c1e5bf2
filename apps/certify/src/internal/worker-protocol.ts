import type { PatchcertErrorCode } from '@patchcert/backend';
import type { BatchOutcome, CertifierInit, ImageBatch } from './certify-images.js';

/** What a certification worker gets at start (`workerData`): the backend, the threats and every method's model. */
export interface WorkerInit extends CertifierInit {
  backend: string;
}

/** Main thread → worker. */
export type WorkerRequest = { type: 'batch'; id: number; batch: ImageBatch } | { type: 'stop' };

/** Worker → main thread. */
export type WorkerReply =
  | { type: 'ready'; backend: string }
  | { type: 'done'; id: number; outcome: BatchOutcome }
  | { type: 'error'; code: PatchcertErrorCode; message: string };
