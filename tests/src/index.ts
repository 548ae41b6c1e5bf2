/**
 * @packageDocumentation
 * `@patchcert/tests`: cross-package checks, and the shipped-model tooling (`ship-model` copies a
 * finished run into `models/<name>/` with reference figures; the shipped-model test re-certifies
 * them).
 */
export { readShippedModel, certifySubset, SHIPPED_SUBSET, SHIPPED_SAMPLE_SEED } from './shipped-model.js';
export type { ShippedReference } from './shipped-model.js';
