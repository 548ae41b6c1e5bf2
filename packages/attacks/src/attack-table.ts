import { tf, PatchcertError } from '@patchcert/backend';
import type { Classifier } from './classifier.js';
import type { Defense } from './defense.js';
import { patchAttack, type Placement } from './patch-attack.js';
import { localGradientSmoothing, type LocalGradientSmoothingOptions } from './local-gradient-smoothing.js';
import { digitalWatermarking, type DigitalWatermarkingOptions } from './digital-watermarking.js';
import { describe, type PatchSpec } from './patch-geometry.js';
import { checkImages, readLabels, checkKeys, stripUndefined } from './internal/inputs.js';
import { predictClasses } from './internal/run-attack.js';

/** Defenses {@link attackTable} builds by name. */
export type DefenseName = 'none' | 'lgs' | 'dw';
export const DEFENSE_NAMES: readonly DefenseName[] = ['none', 'lgs', 'dw'];

/** Options of {@link attackTable}; all optional except `threat`. */
export interface AttackTableOptions {
  /** The patch, as in `patchAttack`. */
  threat: PatchSpec;
  /** Defenses to evaluate (`'none'` is the undefended model). @defaultValue ['none', 'lgs', 'dw'] */
  defenses?: (DefenseName | Defense)[];
  /** Adversaries: where patches go. @defaultValue ['corners', 'random'] */
  placements?: Placement[];
  /** Also run the adaptive attack through each defense. @defaultValue true */
  adaptive?: boolean;
  /** As in `patchAttack`. @defaultValue 80 */
  restarts?: number;
  /** @defaultValue 150 */
  steps?: number;
  /** @defaultValue 0.05 */
  stepSize?: number;
  /** @defaultValue 0 */
  seed?: number;
  /** @defaultValue 1024 */
  batchSize?: number;
  /** As in `patchAttack` (reference quirk Q3 for random placement). @defaultValue false */
  referenceQuirk?: boolean;
  /** Options of the LGS built for `'lgs'`. @defaultValue DEFAULT_LGS */
  lgs?: LocalGradientSmoothingOptions;
  /**
   * Options of the DW built for `'dw'`; pass `model` to use classifier saliency instead of
   * image gradients. @defaultValue DEFAULT_DW (image-gradient saliency)
   */
  dw?: DigitalWatermarkingOptions;
  /** Called with each row as soon as it is measured (progress). */
  onRow?: (row: AttackTableRow) => void;
}

/** One row of the paper's Table 1/2 layout. */
export interface AttackTableRow {
  /** `IFGSM` (the attack ignores the defense) or `IFGSM + LGS` (adaptive, through it). */
  attack: string;
  /** `none`, `LGS`, `DW` or a custom defense's name. */
  defense: string;
  placement: Placement;
  /** The attack differentiates through the defense (LGS) or uses BPDA through it (DW). */
  adaptive: boolean;
  images: number;
  /** Accuracy of the defended model on clean images. */
  cleanAccuracy: number;
  /** Accuracy of the defended model under the attack (clean-correct and not fooled). */
  adversarialAccuracy: number;
  /** Wall time of the row's attack. */
  seconds: number;
}

const KNOWN = ['threat', 'defenses', 'placements', 'adaptive', 'restarts', 'steps', 'stepSize', 'seed', 'batchSize', 'referenceQuirk', 'lgs', 'dw', 'onRow'];

/**
 * The paper's Table 1/2 experiment: for each adversary (corner-only or random placement), the
 * undefended model under the patch attack; each defense against the same adversarial images
 * (the attack made without knowledge of the defense, as its authors evaluated it); and each
 * defense against the adaptive attack through it (differentiating through LGS, BPDA through DW).
 *
 * @param model - the classifier under attack (pixel-space input).
 * @param images - `[batch, height, width, channels]` pixels in [0,1].
 * @param labels - true classes `[batch]`.
 * @param options - see {@link AttackTableOptions}.
 * @returns rows in order: per placement, `none`, then per defense the non-adaptive row and the adaptive row.
 * @throws PatchcertError `INVALID_OPTION` for an unknown defense or placement.
 * @example
 * const rows = attackTable(model, x, y, { threat: '2x2', restarts: 20, steps: 50 });
 * console.log(formatAttackTable(rows));
 */
export function attackTable(model: Classifier, images: tf.Tensor4D, labels: tf.Tensor1D | ArrayLike<number>, options: AttackTableOptions): AttackTableRow[] {
  const fn = 'attackTable';
  if (options === null || typeof options !== 'object') throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: options must be an object with a threat, but got ${describe(options)}.`);
  checkKeys(options, KNOWN, fn);
  checkImages(images, fn);
  const o = { defenses: [...DEFENSE_NAMES], placements: ['corners', 'random'] as Placement[], adaptive: true, ...stripUndefined(options) };
  const defenses: Defense[] = [];
  let withNone = false;
  for (const d of o.defenses) {
    if (d === 'none') withNone = true;
    else if (d === 'lgs') defenses.push(localGradientSmoothing(o.lgs));
    else if (d === 'dw') defenses.push(digitalWatermarking(o.dw));
    else if (d !== null && typeof d === 'object' && typeof d.apply === 'function' && typeof d.name === 'string') defenses.push(d);
    else throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: defenses must be among ${DEFENSE_NAMES.join(', ')} or Defense objects, but got ${describe(d)}.`);
  }
  for (const p of o.placements) {
    if (p !== 'corners' && p !== 'random' && p !== 'all') throw new PatchcertError('INVALID_OPTION', `Error in ${fn}: placements must be among corners, random, all, but got ${describe(p)}.`);
  }
  const B = images.shape[0];
  const y = readLabels(labels, B, undefined, fn);
  const attackOpts = {
    threat: o.threat,
    restarts: o.restarts,
    steps: o.steps,
    stepSize: o.stepSize,
    seed: o.seed,
    batchSize: o.batchSize,
    referenceQuirk: o.referenceQuirk,
  };
  const batch = o.batchSize ?? 1024;
  const rows: AttackTableRow[] = [];
  const push = (r: AttackTableRow): void => {
    rows.push(r);
    o.onRow?.(r);
  };
  const accuracyOf = (pred: Int32Array, also?: Uint8Array): number => {
    let c = 0;
    pred.forEach((p, i) => (c += p === y[i] && (!also || also[i]) ? 1 : 0));
    return c / B;
  };
  for (const placement of o.placements) {
    let t = Date.now();
    // Every iterate is spent so the kept image is the highest-loss fooling one: the strongest
    // transfer candidate for the non-adaptive rows, not merely the first to cross the boundary.
    const bare = patchAttack(model, images, y, { ...attackOpts, placement, stopOnSuccess: false });
    const bareSeconds = (Date.now() - t) / 1000;
    try {
      if (withNone) {
        push({ attack: 'IFGSM', defense: 'none', placement, adaptive: false, images: B, cleanAccuracy: bare.cleanAccuracy, adversarialAccuracy: bare.adversarialAccuracy, seconds: bareSeconds });
      }
      for (const d of defenses) {
        t = Date.now();
        const cleanPred = predictClasses(model, d, images, batch).pred;
        const advPred = predictClasses(model, d, bare.adversarial, batch).pred;
        const cleanOk = Uint8Array.from(cleanPred, (p, i) => (p === y[i] ? 1 : 0));
        push({
          attack: 'IFGSM',
          defense: d.name,
          placement,
          adaptive: false,
          images: B,
          cleanAccuracy: accuracyOf(cleanPred),
          adversarialAccuracy: accuracyOf(advPred, cleanOk),
          seconds: bareSeconds + (Date.now() - t) / 1000,
        });
        if (o.adaptive) {
          t = Date.now();
          const through = patchAttack(model, images, y, { ...attackOpts, placement, defense: d });
          through.adversarial.dispose();
          push({
            attack: `IFGSM + ${d.name}`,
            defense: d.name,
            placement,
            adaptive: true,
            images: B,
            cleanAccuracy: through.cleanAccuracy,
            adversarialAccuracy: through.adversarialAccuracy,
            seconds: (Date.now() - t) / 1000,
          });
        }
      }
    } finally {
      bare.adversarial.dispose();
    }
  }
  return rows;
}

/**
 * Renders rows as a Markdown table in the paper's layout (attack, defense, adversary, clean and
 * adversarial accuracy in percent).
 */
export function formatAttackTable(rows: readonly AttackTableRow[]): string {
  const pct = (v: number): string => `${(100 * v).toFixed(1)}%`;
  const lines = ['| attack | defense | adversary | images | clean acc | adv acc |', '|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.attack} | ${r.defense} | ${r.placement} | ${r.images} | ${pct(r.cleanAccuracy)} | ${pct(r.adversarialAccuracy)} |`);
  return lines.join('\n');
}
