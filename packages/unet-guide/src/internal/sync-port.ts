// A blocking message channel between two threads: messages go through a MessagePort (structured
// clone) and a counter in shared memory says one is waiting, so the receiver can sleep on the
// counter with Atomics.wait and take the message with receiveMessageOnPort. Neither side needs
// its event loop, so the trainer's synchronous step can hand work to a worker and wait for it.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { PatchcertError } from '@patchcert/backend';

/** One end of a blocking channel: sends on `port`, bumps `outbox`; receives from `port`, waits on `inbox`. */
export class SyncPort {
  /**
   * @param signals - shared counters; `outbox` is the index this end bumps on sending, `inbox`
   *   the one the other end bumps.
   */
  constructor(
    private readonly port: MessagePort,
    private readonly signals: Int32Array,
    private readonly outbox: number,
    private readonly inbox: number,
  ) {}

  send(message: unknown, transfer: readonly ArrayBuffer[] = []): void {
    this.port.postMessage(message, transfer as ArrayBuffer[]);
    Atomics.add(this.signals, this.outbox, 1);
    Atomics.notify(this.signals, this.outbox);
  }

  /**
   * The next message, waiting for it up to `timeoutMs`.
   * @param stop - checked while waiting: a reason to stop waiting (thrown as an INTERNAL error).
   */
  receive<T>(timeoutMs: number, what: string, stop?: () => string | null): T {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.signals, this.inbox);
      const got = receiveMessageOnPort(this.port);
      if (got) return got.message as T;
      const reason = stop?.();
      if (reason) throw new PatchcertError('INTERNAL', reason);
      if (Date.now() > deadline) throw new PatchcertError('INTERNAL', `Error in SyncPort.receive: waited ${Math.round(timeoutMs / 1000)} s for ${what}, but none came.`);
      Atomics.wait(this.signals, this.inbox, seen, 250);
    }
  }

  close(): void {
    this.port.close();
  }
}
