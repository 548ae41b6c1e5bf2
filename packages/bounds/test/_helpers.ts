import type { Normalization } from '@patchcert/backend';
import { buildModel, type SequentialModel } from '@patchcert/models';

export { assertClose, throwsCode, randomImages, randomLabels } from '@patchcert/backend/testing';
export { customModel, conv, dense, relu, flatten } from '@patchcert/models/testing';

/** CIFAR constants, to exercise a non-identity normalization. */
export const CIFAR_NORM: Normalization = { mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.201] };

/** A paper architecture with seeded random weights. */
export function paperModel(arch: string, inputShape: [number, number, number], seed: number, hidden?: number[]): SequentialModel {
  const normalization = inputShape[2] === 3 ? CIFAR_NORM : undefined;
  return buildModel(arch, { inputShape, numClasses: 10, seed, ...(hidden ? { hidden } : {}), ...(normalization ? { normalization } : {}) });
}
