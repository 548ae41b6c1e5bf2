// What a U-Net replica needs from the others in a data-parallel step (see guide-pool.ts): sums
// across replicas, the same in each, so that BatchNorm sees the whole batch's statistics and
// every replica applies the same gradient. One process is a group of one (no ShardGroup).

/** The replicas of one data-parallel U-Net step. */
export interface ShardGroup {
  /**
   * Elementwise sum of `values` over the replicas that hold part of this step's batch, added in
   * rank order so every replica gets the same floats. Each of them calls it in the same order.
   */
  sumShards(values: Float32Array): Float32Array;
  /** The same over every replica, including those without images this step. */
  sumReplicas(values: Float32Array): Float32Array;
  /** This replica's index; rank 0 always holds images. */
  readonly rank: number;
  /**
   * Some replica holds no images this step (a batch smaller than the group): BatchNorm running
   * statistics are then copied from rank 0 so that every replica keeps the same ones.
   */
  readonly partial: boolean;
}
