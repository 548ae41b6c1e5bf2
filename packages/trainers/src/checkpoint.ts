import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchcertError, type RngState } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { AdamState } from './adam.js';
import type { TrainConfig } from './train-config.js';
import type { EpochMetrics } from './trainer-events.js';
import { saveModel, loadModel } from '@patchcert/models';

/** Everything besides the model weights that resuming needs. */
export interface CheckpointState {
  /** Checkpoint format version. */
  version: 1;
  /** The last completed epoch (0-based); training resumes at `epoch + 1`. */
  epoch: number;
  config: TrainConfig;
  /** The run generator's state at the end of `epoch`. */
  rng: RngState;
  /** Adam step count and options (the moments are in `optimizer.bin`). */
  adam: { step: number; options: AdamState['options']; sizes: number[] };
  /** State of the strategy (e.g. a U-Net), if it has any. */
  strategy?: Record<string, unknown>;
  /** Metrics of every completed epoch. */
  history: EpochMetrics[];
  /** Training seconds so far (evaluation excluded, as the reference counts). */
  trainSeconds: number;
}

/** Directory names inside a run's output directory. */
export const CHECKPOINT_DIR = 'checkpoint';

/**
 * Writes a checkpoint atomically: everything goes into a temporary sibling directory, which then
 * replaces `<out>/checkpoint` by rename. A kill at any moment leaves either the old or the new
 * checkpoint complete (the old one is kept as `checkpoint.old` during the swap).
 */
export async function saveCheckpoint(out: string, model: SequentialModel, adam: AdamState, state: Omit<CheckpointState, 'version' | 'adam'>): Promise<string> {
  const final = join(out, CHECKPOINT_DIR);
  const tmp = join(out, `${CHECKPOINT_DIR}.tmp-${process.pid}`);
  const old = join(out, `${CHECKPOINT_DIR}.old`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await saveModel(model, join(tmp, 'model'));
  const sizes = adam.m.map((a) => a.length);
  const total = 2 * sizes.reduce((s, n) => s + n, 0);
  const buf = new Float32Array(total);
  let o = 0;
  for (const a of [...adam.m, ...adam.v]) {
    buf.set(a, o);
    o += a.length;
  }
  writeFileSync(join(tmp, 'optimizer.bin'), new Uint8Array(buf.buffer));
  const full: CheckpointState = { version: 1, ...state, adam: { step: adam.step, options: adam.options, sizes } };
  writeFileSync(join(tmp, 'state.json'), JSON.stringify(full));
  rmSync(old, { recursive: true, force: true });
  if (existsSync(final)) renameSync(final, old);
  renameSync(tmp, final);
  rmSync(old, { recursive: true, force: true });
  return final;
}

/** The checkpoint directory of `out` that is complete, or undefined when there is none. */
export function findCheckpoint(out: string): string | undefined {
  for (const name of [CHECKPOINT_DIR, `${CHECKPOINT_DIR}.old`]) {
    const dir = join(out, name);
    if (existsSync(join(dir, 'state.json'))) return dir;
  }
  return undefined;
}

/**
 * Reads the checkpoint of a run.
 * @throws PatchcertError `FILE_NOT_FOUND` when `out` has no checkpoint, `MODEL_FORMAT` when it is
 *   damaged.
 */
export async function loadCheckpoint(out: string): Promise<{ dir: string; state: CheckpointState; adam: AdamState; model: SequentialModel }> {
  const dir = findCheckpoint(out);
  if (!dir) throw new PatchcertError('FILE_NOT_FOUND', `Error in loadCheckpoint: ${out} must hold ${CHECKPOINT_DIR}/state.json to resume, but it has none.`);
  let state: CheckpointState;
  try {
    state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as CheckpointState;
  } catch (err) {
    throw new PatchcertError('MODEL_FORMAT', `Error in loadCheckpoint: ${dir}/state.json must be valid JSON, but it could not be parsed.`, { cause: err });
  }
  if (state.version !== 1) throw new PatchcertError('MODEL_FORMAT', `Error in loadCheckpoint: checkpoint version must be 1, but got ${String(state.version)}.`);
  const raw = readFileSync(join(dir, 'optimizer.bin'));
  const all = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const sizes = state.adam.sizes;
  const total = sizes.reduce((s, n) => s + n, 0);
  if (all.length !== 2 * total) {
    throw new PatchcertError('MODEL_FORMAT', `Error in loadCheckpoint: optimizer.bin must hold ${2 * total} floats, but got ${all.length}.`);
  }
  const m: Float32Array[] = [];
  const v: Float32Array[] = [];
  let o = 0;
  for (const n of sizes) {
    m.push(all.slice(o, o + n));
    o += n;
  }
  for (const n of sizes) {
    v.push(all.slice(o, o + n));
    o += n;
  }
  const model = await loadModel(join(dir, 'model'));
  return { dir, state, adam: { step: state.adam.step, options: state.adam.options, m, v }, model };
}
