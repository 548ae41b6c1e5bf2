import { assert } from '@patchcert/backend';

/** Warm-up settings of reference-spec §5.3: `schedule_start` natural epochs, then a ramp. */
export interface ScheduleOptions {
  /** Epochs at eps 0 before the ramp (reference `schedule_start`). */
  start: number;
  /** Points of the ramp `linspace(0, 1, length)` (reference `schedule_length`). */
  length: number;
  /** Final eps. @defaultValue 1 */
  epsilon?: number;
}

/** Learning-rate settings of reference-spec §5.4 (StepLR after the warm-up). */
export interface LearningRateOptions extends ScheduleOptions {
  /** Initial learning rate (5e-4 MNIST, 1e-3 CIFAR). */
  lr: number;
  /** Epochs between halvings. @defaultValue 10 */
  decayStep?: number;
  /** Factor applied every `decayStep` epochs. @defaultValue 0.5 */
  decayFactor?: number;
}

function checkSchedule(fn: string, s: ScheduleOptions): void {
  assert(Number.isInteger(s.start) && s.start >= 0, () => `Error in ${fn}: schedule start must be an integer >= 0, but got ${s.start}.`, 'INVALID_OPTION');
  assert(Number.isInteger(s.length) && s.length >= 1, () => `Error in ${fn}: schedule length must be an integer >= 1, but got ${s.length}.`, 'INVALID_OPTION');
}

/** `linspace(a, b, n)` as numpy computes it (the last value is exactly `b`). */
function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  const step = (b - a) / (n - 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i === n - 1 ? b : a + i * step);
  return out;
}

/**
 * The per-epoch eps list `[0]·start ++ linspace(0, epsilon, length)` (reference-spec §5.3).
 *
 * @param s - warm-up settings; MNIST patch (1, 61), MNIST sparse (1, 11), CIFAR (10, 121).
 * @returns `start + length` values.
 * @throws PatchcertError `INVALID_OPTION` for a negative start or a length below 1.
 * @example
 * epsSchedule({ start: 1, length: 61 }).length; // 62
 */
export function epsSchedule(s: ScheduleOptions): number[] {
  checkSchedule('epsSchedule', s);
  return [...new Array<number>(s.start).fill(0), ...linspace(0, s.epsilon ?? 1, s.length)];
}

/**
 * The eps an epoch starts and ends at. Epoch t ramps from `schedule[t]` to `schedule[t+1]`
 * (or stays at `schedule[t]` for the last entry); past the schedule it stays at the final eps.
 */
export function epochEpsRange(epoch: number, s: ScheduleOptions): { start: number; end: number } {
  assert(Number.isInteger(epoch) && epoch >= 0, () => `Error in epochEpsRange: epoch must be an integer >= 0, but got ${epoch}.`, 'INVALID_OPTION');
  const sched = epsSchedule(s);
  if (epoch >= sched.length) {
    const last = sched[sched.length - 1]!;
    return { start: last, end: last };
  }
  const start = sched[epoch]!;
  const end = epoch + 1 < sched.length ? sched[epoch + 1]! : start;
  return { start, end };
}

/** Epochs whose end eps is below this train on plain cross-entropy (reference L113-115). */
export const NATURAL_EPS_THRESHOLD = 1e-6;

/** True when epoch `epoch` is a natural (plain cross-entropy) epoch. */
export function isNaturalEpoch(epoch: number, s: ScheduleOptions): boolean {
  return epochEpsRange(epoch, s).end < NATURAL_EPS_THRESHOLD;
}

/**
 * The eps batch `batch` of epoch `epoch` trains at: `linspace(start, end, ⌊N/bs⌋ + 1)[batch]`
 * (reference-spec §5.3). With `batches` = ⌈N/bs⌉ and N not divisible by bs the last batch uses
 * `end`; when N is divisible, `end` is never reached (quirk Q21, kept).
 *
 * @param epoch - 0-based epoch.
 * @param batch - 0-based batch index within the epoch.
 * @param trainCount - N, training images per epoch.
 * @param batchSize - bs.
 * @param s - warm-up settings.
 * @throws PatchcertError `INVALID_OPTION` for a batch outside the epoch.
 */
export function batchEps(epoch: number, batch: number, trainCount: number, batchSize: number, s: ScheduleOptions): number {
  const n = Math.floor(trainCount / batchSize) + 1;
  const batches = Math.ceil(trainCount / batchSize);
  assert(
    Number.isInteger(batch) && batch >= 0 && batch < Math.max(batches, 1),
    () => `Error in batchEps: batch must be an integer in [0, ${batches}), but got ${batch}.`,
    'INVALID_OPTION',
  );
  const { start, end } = epochEpsRange(epoch, s);
  return linspace(start, end, n)[Math.min(batch, n - 1)]!;
}

/**
 * The learning rate of epoch t: `lr0 · factor^⌊max(t − len(eps_schedule), 0) / step⌋`
 * (reference-spec §5.4; the first halving is 10 epochs *after* the schedule ends, quirk Q15).
 *
 * @example
 * learningRate(72, { lr: 5e-4, start: 1, length: 61 }); // 2.5e-4
 */
export function learningRate(epoch: number, o: LearningRateOptions): number {
  checkSchedule('learningRate', o);
  assert(Number.isInteger(epoch) && epoch >= 0, () => `Error in learningRate: epoch must be an integer >= 0, but got ${epoch}.`, 'INVALID_OPTION');
  const len = o.start + o.length;
  const step = o.decayStep ?? 10;
  const factor = o.decayFactor ?? 0.5;
  return o.lr * Math.pow(factor, Math.floor(Math.max(epoch - len, 0) / step));
}
