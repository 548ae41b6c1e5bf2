// A ShardGroup of worker threads over one SharedArrayBuffer: each sum is a barrier between the
// replicas, which write their values into their own slot, wait for the rest, and add every
// slot in rank order (so all of them get the same floats). Two sets of slots alternate, so a
// replica that leaves a barrier early cannot overwrite values another is still reading.
import { PatchcertError } from '@patchcert/backend';
import type { ShardGroup } from './shard-group.js';

const COUNT = 0;
const GENERATION = 1;
const ABORT = 2;
const HEADER_INTS = 4;
/** How long a replica waits at a barrier before it reports a hung group. */
const BARRIER_TIMEOUT_MS = 10 * 60 * 1000;

/** One exchange area: its barrier and two alternating sets of per-rank slots. */
class Channel {
  readonly header: Int32Array;
  readonly slots: Float32Array;
  parity = 0;
  constructor(buffer: SharedArrayBuffer, offset: number, readonly replicas: number, readonly capacity: number) {
    this.header = new Int32Array(buffer, offset, HEADER_INTS);
    this.slots = new Float32Array(buffer, offset + HEADER_INTS * 4, 2 * replicas * capacity);
  }
  static bytes(replicas: number, capacity: number): number {
    return HEADER_INTS * 4 + 2 * replicas * capacity * 4;
  }
}

/** Bytes of the SharedArrayBuffer {@link SharedGroup} needs for `replicas` sums of up to `capacity` values. */
export function sharedGroupBytes(replicas: number, capacity: number): number {
  return Channel.bytes(replicas, SHARD_CAPACITY) + Channel.bytes(replicas, capacity);
}

/** Per-channel statistics are small (2C + 1 values); the shard channel holds up to this many. */
const SHARD_CAPACITY = 1024;

/** One replica's view of the group (see shard-group.ts). */
export class SharedGroup implements ShardGroup {
  private readonly shards: Channel;
  private readonly all: Channel;
  private active: number;

  constructor(buffer: SharedArrayBuffer, readonly rank: number, readonly replicas: number, capacity: number) {
    this.shards = new Channel(buffer, 0, replicas, SHARD_CAPACITY);
    this.all = new Channel(buffer, Channel.bytes(replicas, SHARD_CAPACITY), replicas, capacity);
    this.active = replicas;
  }

  get partial(): boolean {
    return this.active < this.replicas;
  }

  /**
   * Starts a step in which ranks 0 … active − 1 hold images. Every replica calls it between steps,
   * when no sum is in flight (the pool waits for all of them to finish a step first).
   */
  begin(active: number): void {
    this.active = active;
    this.shards.parity = 0;
    this.all.parity = 0;
  }

  sumShards(values: Float32Array): Float32Array {
    return this.sum(this.shards, values, this.active);
  }

  sumReplicas(values: Float32Array): Float32Array {
    return this.sum(this.all, values, this.replicas);
  }

  /** Tells the others that this replica failed: their waits throw instead of hanging. */
  abort(): void {
    for (const ch of [this.shards, this.all]) {
      Atomics.store(ch.header, ABORT, 1);
      Atomics.notify(ch.header, GENERATION);
    }
  }

  /** Some replica (or the pool) called {@link abort}. */
  get aborted(): boolean {
    return Atomics.load(this.shards.header, ABORT) !== 0;
  }

  private sum(ch: Channel, values: Float32Array, parties: number): Float32Array {
    if (values.length > ch.capacity) {
      throw new PatchcertError('INTERNAL', `Error in SharedGroup.sum: a sum must have at most ${ch.capacity} values, but got ${values.length}.`);
    }
    const n = values.length;
    const base = ch.parity * ch.replicas * ch.capacity;
    ch.slots.set(values, base + this.rank * ch.capacity);
    this.barrier(ch, parties);
    const out = new Float32Array(n);
    const acc = new Float64Array(n);
    for (let r = 0; r < parties; r++) {
      const from = base + r * ch.capacity;
      for (let i = 0; i < n; i++) acc[i]! += ch.slots[from + i]!;
    }
    out.set(acc);
    ch.parity ^= 1;
    return out;
  }

  private barrier(ch: Channel, parties: number): void {
    const h = ch.header;
    const generation = Atomics.load(h, GENERATION);
    if (Atomics.add(h, COUNT, 1) === parties - 1) {
      Atomics.store(h, COUNT, 0);
      Atomics.add(h, GENERATION, 1);
      Atomics.notify(h, GENERATION);
      return;
    }
    const deadline = Date.now() + BARRIER_TIMEOUT_MS;
    while (Atomics.load(h, GENERATION) === generation) {
      if (Atomics.load(h, ABORT) !== 0) {
        throw new PatchcertError('INTERNAL', `Error in SharedGroup: replica ${this.rank} stopped at a sum because another replica failed.`);
      }
      if (Date.now() > deadline) {
        throw new PatchcertError('INTERNAL', `Error in SharedGroup: replica ${this.rank} waited ${BARRIER_TIMEOUT_MS / 1000} s at a sum for the other replicas; one of them hung.`);
      }
      Atomics.wait(h, GENERATION, generation, 250);
    }
  }
}
