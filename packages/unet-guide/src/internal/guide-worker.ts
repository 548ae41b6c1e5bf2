// A U-Net replica in a worker thread (see ../unet-guide-pool.ts). It blocks on its SyncPort
// between commands, so a step's messages (images, the noise, the true margins) are read as the
// step needs them, in the middle of the U-Net's forward pass, without returning to the event loop.
import { workerData } from 'node:worker_threads';
import { tf, initBackend, PatchcertError } from '@patchcert/backend';
import { UNetGuide, type UNetGuideOptions, type UNetGuideState } from '../unet-guide.js';
import type { GuidedSample, RandomWords } from '../guided-sampler.js';
import { SharedGroup } from './shared-group.js';
import { SyncPort } from './sync-port.js';
import type { GuideWorkerData, PoolCommand, PoolBuffers, WorkerReply } from './pool-protocol.js';

const data = workerData as GuideWorkerData;
const port = new SyncPort(data.port, new Int32Array(data.signals), data.toMain, data.toWorker);
const group = new SharedGroup(data.group, data.rank, data.replicas, data.capacity);
/** Commands wait without limit (the trainer may pause between steps); a step's parts do not. */
const IDLE_TIMEOUT_MS = 2 ** 31;
const STEP_TIMEOUT_MS = 10 * 60 * 1000;

let guide: UNetGuide | null = null;
let buffers: PoolBuffers | null = null;

function reply(r: WorkerReply): void {
  port.send(r);
}

/** The next message of the running step; a failed replica's abort ends the wait. */
function stepMessage<T extends PoolCommand['op']>(op: T): Extract<PoolCommand, { op: T }> {
  const m = port.receive<PoolCommand>(STEP_TIMEOUT_MS, `the pool's '${op}'`, () => (group.aborted ? `Error in U-Net worker ${data.rank}: stopped, another replica failed.` : null));
  if (m.op !== op) throw new PatchcertError('INTERNAL', `Error in U-Net worker ${data.rank}: expected the pool's '${op}', but got '${m.op}'.`);
  return m as Extract<PoolCommand, { op: T }>;
}

/** Replays the words the pool drew for this replica's images, once the pool says they are there. */
function noiseOf(lo: number, hi: number, wordsPerImage: number): RandomWords {
  let at = -1;
  // The next `count` words, read in place from the pool's buffer (the draw copies them once,
  // into its kernel's input, without a fresh array per step).
  const nextWords = (count: number): Uint32Array => {
    if (at < 0) {
      stepMessage('noise');
      at = lo * wordsPerImage;
    }
    if (at + count > hi * wordsPerImage) throw new PatchcertError('INTERNAL', `Error in U-Net worker ${data.rank}: the sampler read past this replica's noise.`);
    const view = buffers!.noise.subarray(at, at + count);
    at += count;
    return view;
  };
  return {
    nextWords,
    fillU32(out: Uint32Array): Uint32Array {
      out.set(nextWords(out.length));
      return out;
    },
  };
}

function step(m: Extract<PoolCommand, { op: 'fit' | 'sample' }>): WorkerReply {
  const g = guide!;
  const b = buffers!;
  const [h, w, c] = g.unet.inputShape;
  const [rows, cols] = g.grid;
  const { lo, hi } = m;
  group.begin(m.active);
  if (lo === hi) {
    // No images this step: a fit still joins the gradient sum and takes the same Adam step.
    if (m.op === 'fit') g.idleStep();
    return { op: 'done', loss: 0 };
  }
  const x = tf.tensor4d(b.x.subarray(lo * h * w * c, hi * h * w * c), [hi - lo, h, w, c]);
  const noise = noiseOf(lo, hi, rows * cols * g.unet.classes);
  try {
    if (m.op === 'sample') {
      reply({ op: 'sample', sample: g.sample(x, noise, false) });
      return { op: 'done', loss: 0 };
    }
    const { loss } = g.sampleAndFit(x, noise, (sample: GuidedSample) => {
      reply({ op: 'sample', sample });
      stepMessage('targets');
      const per = sample.width * sample.classes;
      return b.targets.subarray(lo * m.targetStride, lo * m.targetStride + (hi - lo) * per);
    });
    return { op: 'done', loss };
  } finally {
    x.dispose();
  }
}

function handle(m: PoolCommand): WorkerReply | null {
  switch (m.op) {
    case 'buffers':
      buffers = { x: new Float32Array(m.x), noise: new Uint32Array(m.noise), targets: new Float32Array(m.targets) };
      return { op: 'done', loss: 0 };
    case 'fit':
    case 'sample':
      return step(m);
    case 'getState':
      return { op: 'state', state: guide!.getState() };
    case 'setState':
      guide!.setState(m.state as UNetGuideState);
      return { op: 'done', loss: 0 };
    case 'learningRate':
      guide!.learningRate = m.value;
      return { op: 'done', loss: 0 };
    case 'startEpoch':
      guide!.startEpoch();
      return { op: 'done', loss: 0 };
    case 'noise':
    case 'targets':
      throw new PatchcertError('INTERNAL', `Error in U-Net worker ${data.rank}: got the pool's '${m.op}' outside a step.`);
    case 'close':
      return null;
    default:
      throw new PatchcertError('INTERNAL', `Error in U-Net worker ${data.rank}: unknown command ${JSON.stringify((m as { op: unknown }).op)}.`);
  }
}

/** `peer` when the group was already aborted: this failure likely follows another's. */
function errorReply(e: unknown): WorkerReply {
  const code = e instanceof PatchcertError ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  return { op: 'error', code, message, peer: group.aborted };
}

try {
  await initBackend(data.backend, { threads: 1 });
  const options: UNetGuideOptions = { ...data.options, group };
  guide = new UNetGuide(options);
  if (data.state) guide.setState(data.state as UNetGuideState);
  reply({ op: 'done', loss: 0 });
} catch (e) {
  reply(errorReply(e));
}

for (;;) {
  const m = port.receive<PoolCommand>(IDLE_TIMEOUT_MS, 'a command');
  let r: WorkerReply | null;
  try {
    r = guide ? handle(m) : { op: 'error', code: 'INTERNAL', message: `Error in U-Net worker ${data.rank}: it did not start.`, peer: false };
  } catch (e) {
    r = errorReply(e);
    group.abort();
  }
  if (r === null) break;
  reply(r);
}
guide?.dispose();
port.close();
