import type { TrainConfig } from './train-config.js';

/** One row of `metrics.jsonl`: what an epoch did. */
export interface EpochMetrics {
  /** 0-based epoch. */
  epoch: number;
  lr: number;
  /** eps the epoch ramps from and to (reference-spec §5.3). */
  epsStart: number;
  epsEnd: number;
  /** eps of the last batch (below `epsEnd` when N divides by the batch size, quirk Q21). */
  epsLastBatch: number;
  /** True for a plain cross-entropy warm-up epoch. */
  natural: boolean;
  /** Mean training loss over the epoch's images. */
  trainLoss: number;
  /** Accuracy on the epoch's training batches (before each step), in [0,1]: clean for IBP strategies, on the ablated inputs for ablation ones. */
  trainAccuracy: number;
  /** Clean accuracy of the held-out test subset, in [0,1]; null when not evaluated this epoch. */
  cleanAccuracy: number | null;
  /** Certified accuracy of the held-out test subset by the strategy's certificate (IBP: every location at eps 1); null when not evaluated. */
  certifiedAccuracy: number | null;
  /** Images in the held-out subset. */
  evalImages: number;
  /** Seconds of training (no evaluation), of evaluation. */
  trainSeconds: number;
  evalSeconds: number;
  /** Training throughput. */
  imagesPerSecond: number;
  /**
   * CPU seconds this process spent training (user + system, every thread), and training images
   * per CPU second: on a machine shared with other jobs these stay steady where wall-clock
   * throughput swings with the load. Absent in rows written before they were recorded.
   */
  trainCpuSeconds?: number;
  imagesPerCpuSecond?: number;
  /** Resident memory after the epoch, MiB. */
  rssMiB: number;
  /** Live tensors after the epoch (a leak shows as growth). */
  numTensors: number;
}

/** Result of the final certified evaluation. */
export interface EvaluationResult {
  images: number;
  cleanAccuracy: number;
  certifiedAccuracy: number;
  seconds: number;
}

/** What {@link train} returns. */
export interface TrainResult {
  config: TrainConfig;
  /** Where the final model was written (`<out>/model`). */
  modelDir: string;
  history: EpochMetrics[];
  /** The final test-set evaluation; undefined when skipped. */
  final?: EvaluationResult;
  /** Training seconds over all epochs (resumed runs included). */
  trainSeconds: number;
  /** True when the run stopped early through `signal`. */
  interrupted: boolean;
}

/** Progress events a {@link train} run reports, for a CLI to render. */
export type TrainEvent =
  | {
      type: 'start';
      config: TrainConfig;
      trainImages: number;
      evalImages: number;
      batchesPerEpoch: number;
      startEpoch: number;
      parameters: number;
      strategy: string;
      resumed: boolean;
    }
  | { type: 'epoch-start'; epoch: number; epochs: number; lr: number; epsStart: number; epsEnd: number; natural: boolean; batches: number }
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number; eps: number; imagesPerSecond: number }
  | { type: 'eval-start'; epoch: number | 'final'; images: number }
  | { type: 'eval-progress'; epoch: number | 'final'; done: number; images: number }
  | { type: 'epoch-end'; metrics: EpochMetrics }
  | { type: 'checkpoint'; epoch: number; dir: string }
  | { type: 'final'; result: EvaluationResult }
  | { type: 'done'; result: TrainResult };
