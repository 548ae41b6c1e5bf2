import { PatchcertError } from '@patchcert/backend';
import type { AblationMode } from '@patchcert/ablation';
import type { ThreatSpec } from './threat-spec.js';

/**
 * The certificates the CLI can compute, each with its own model:
 * - `ibp`: interval bound propagation on `<model-dir>` (patches, shapes, sparse);
 * - `derandomized`: derandomized smoothing (Levine & Feizi 2020) on a column or block ablation
 *   classifier, against patches and shapes (by their bounding box);
 * - `random-ablation`: random ablation (Levine & Feizi 2019) on a random-ablation classifier,
 *   against sparse threats.
 */
export const CERTIFY_METHODS = ['ibp', 'derandomized', 'random-ablation'] as const;
export type CertifyMethod = (typeof CERTIFY_METHODS)[number];
export type AblationMethod = Exclude<CertifyMethod, 'ibp'>;

/** Sampling settings of random ablation (`--rs-n0`, `--rs-n`, `--rs-alpha`, `--rs-seed`). */
export interface RandomAblationSampling {
  n0: number;
  n: number;
  alpha: number;
  /** Image i draws its ablations from seed `imageSeed(seed, i)`, so results do not depend on batches or workers. */
  seed: number;
}

/** The defaults of the `--rs-*` options, written out in full. */
export const DEFAULT_RS_SAMPLING: RandomAblationSampling = { n0: 100, n: 1000, alpha: 0.05, seed: 0 };

/** One method to run and its model, as plain data (it crosses to worker threads and into the results). */
export type MethodPlan =
  | { method: 'ibp'; modelDir: string }
  | { method: 'derandomized'; modelDir: string; mode: Extract<AblationMode, { mode: 'column' | 'block' }> }
  | { method: 'random-ablation'; modelDir: string; mode: Extract<AblationMode, { mode: 'random-ablation' }>; sampling: RandomAblationSampling };

/**
 * Parses `--method ibp,derandomized` (duplicates dropped, order kept).
 * @throws PatchcertError `INVALID_OPTION` for an unknown or empty list.
 */
export function parseMethodList(value: string): CertifyMethod[] {
  const items = value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0);
  if (items.length === 0) throw new PatchcertError('INVALID_OPTION', `Error in certify: --method must be a list from ${CERTIFY_METHODS.join(', ')}, but got '${value}'.`);
  const out: CertifyMethod[] = [];
  for (const item of items) {
    if (!(CERTIFY_METHODS as readonly string[]).includes(item)) {
      throw new PatchcertError('INVALID_OPTION', `Error in certify: --method must list methods from ${CERTIFY_METHODS.join(', ')}, but got '${item}'.`);
    }
    if (!out.includes(item as CertifyMethod)) out.push(item as CertifyMethod);
  }
  return out;
}

/** Whether a method certifies a threat: IBP all of them, derandomized patches and shapes, random ablation sparse. */
export function methodCovers(method: CertifyMethod, threat: ThreatSpec): boolean {
  switch (method) {
    case 'ibp':
      return true;
    case 'derandomized':
      return threat.kind === 'patch' || threat.kind === 'shape';
    case 'random-ablation':
      return threat.kind === 'sparse';
  }
}

/** The id of a method's verdict on a threat: the threat id for IBP (as before methods existed), else `<method>:<threat id>`. */
export function methodThreatId(method: CertifyMethod, threatId: string): string {
  return method === 'ibp' ? threatId : `${method}:${threatId}`;
}

/** Which ablation family a method needs, for messages. */
export function neededMode(method: AblationMethod): string {
  return method === 'derandomized' ? 'a column or block ablation classifier' : 'a random-ablation classifier';
}

/** Whether an ablation model's mode serves a method. */
export function modeServes(method: AblationMethod, mode: AblationMode): boolean {
  return method === 'derandomized' ? mode.mode === 'column' || mode.mode === 'block' : mode.mode === 'random-ablation';
}

/** A short description of an ablation mode: `column s=4`, `block s=5`, `random-ablation kKeep=45`. */
export function describeMode(mode: AblationMode): string {
  return mode.mode === 'random-ablation' ? `random-ablation kKeep=${mode.kKeep}` : `${mode.mode} s=${mode.bandWidth}`;
}

/**
 * Seed of image `index`'s random-ablation draws: a function of the run's seed and the image's
 * test-split index only, so verdicts do not depend on batch size, worker count or resuming.
 */
export function imageSeed(seed: number, index: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + index) >>> 0;
}

/** What makes two runs' methods the same for `--resume` (the model directories are not compared, as before). */
export function methodSignature(plan: Pick<MethodPlan, 'method'> & { mode?: AblationMode; sampling?: RandomAblationSampling }): string {
  const mode = plan.mode ? ` ${describeMode(plan.mode)}` : '';
  const s = plan.sampling;
  return `${plan.method}${mode}${s ? ` n0=${s.n0} n=${s.n} alpha=${s.alpha} seed=${s.seed}` : ''}`;
}
