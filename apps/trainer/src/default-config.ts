import type { TrainConfigInput } from '@patchcert/trainers';

/**
 * What `pnpm --filter trainer start` trains with no arguments: a 2×2-patch MNIST MLP on the
 * embedded MNIST, sized to finish in a few minutes on a 2-core machine (a 20k-image subset, one
 * natural epoch, a short ramp, a few epochs at full eps), then certified on 1000 test images
 * over every location. Same as `configs/quick/mnist-mlp-p22-default.json`.
 */
export const DEFAULT_CONFIG: TrainConfigInput = {
  name: 'default',
  description: 'MNIST MLP, 2x2 patch, random(10), 20k-image subset, 7 epochs (quick demo)',
  dataset: 'mnist',
  architecture: 'mlp',
  threat: { type: 'patch', size: 2 },
  strategy: { type: 'random', k: 10 },
  epochs: 7,
  batchSize: 128,
  lr: 1e-3,
  schedule: { start: 1, length: 3 },
  seed: 2019,
  data: { trainLimit: 20000 },
  eval: { epochLimit: 100, finalLimit: 1000, batchSize: 100, every: 1 },
};

/** Output directory when `--out` is not given. */
export const DEFAULT_OUT = 'runs/default';
