// Entry point of a certification worker thread: it starts its own backend, loads every method's
// model from disk, and certifies the batches the main thread sends until it is told to stop.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, describeBackend, toPatchcertError } from '@patchcert/backend';
import { Certifier } from './certify-images.js';
import type { WorkerInit, WorkerRequest, WorkerReply } from './worker-protocol.js';

const port = parentPort!;
const init = workerData as WorkerInit;

function send(msg: WorkerReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

try {
  const info = await initBackend(init.backend);
  const certifier = await Certifier.create(init);
  send({ type: 'ready', backend: describeBackend(info) });
  port.on('message', (req: WorkerRequest) => {
    if (req.type === 'stop') {
      port.close();
      return;
    }
    certifier.certify(req.batch).then(
      (outcome) => send({ type: 'done', id: req.id, outcome }, outcome.maps.filter((m) => m.length > 0).map((m) => m.buffer as ArrayBuffer)),
      (err: unknown) => {
        const e = toPatchcertError(err);
        send({ type: 'error', code: e.code, message: e.message });
      },
    );
  });
} catch (err) {
  const e = toPatchcertError(err);
  send({ type: 'error', code: e.code, message: e.message });
}
