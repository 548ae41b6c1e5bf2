import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { PatchcertError } from '@patchcert/backend';
import { ARCHITECTURES } from '@patchcert/models';


const positiveInt = z.number().int().min(1);

/** Which pixels the attacker controls. */
export const threatConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({
    /** An n×n square patch anywhere in the image. */
    type: z.literal('patch'),
    size: positiveInt,
  }),
  z.strictObject({
    /** An h×w rectangle patch (h along rows). */
    type: z.literal('rectangle'),
    height: positiveInt,
    width: positiveInt,
  }),
  z.strictObject({
    /** Any k pixels (sparse, top-k first layer). */
    type: z.literal('sparse'),
    k: positiveInt,
    /** Sum channels per pixel (sound for RGB MLPs) instead of the reference's per-entry top-k. */
    tight: z.boolean().optional(),
  }),
]);

/**
 * How @patchcert/bounds computes the margins: `fast` (local first-layer terms, no full boxes) or
 * `naive` (every location's full box). Equal results; which is quicker depends on k and the
 * model (see the strategies benchmark).
 */
const boundMethod = z.enum(['fast', 'naive']);

/** How each batch's worst-case margins are bounded (a {@link MarginStrategy} by name). */
export const strategyConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('natural') }),
  z.strictObject({ type: z.literal('all'), method: boundMethod.optional() }),
  z.strictObject({ type: z.literal('random'), k: positiveInt, method: boundMethod.optional() }),
  z.strictObject({ type: z.literal('sparse') }),
  z.strictObject({
    type: z.literal('guided'),
    /** Patches per image: 10 (guide10) or 20 (guide20), drawn per class from the U-Net. */
    k: positiveInt,
    /** Softmax temperature T of the location sampler. */
    temperature: z.number().positive().optional(),
    /** U-Net base width (6 MNIST, 10 CIFAR). */
    baseWidth: positiveInt.optional(),
    /**
     * Reference quirk Q1: U-Net gradients are summed over an epoch and never zeroed within it,
     * so its Adam sees the running sum (off by default; for reproducing the reference).
     */
    accumulateGradients: z.boolean().optional(),
    /**
     * Reference quirk Q2: the draw at prediction cell (r, c) bounds the patch at (c, r), so the
     * U-Net learns a transposed map. Needs a square location grid (off by default).
     */
    transposeCoordinates: z.boolean().optional(),
    /**
     * Worker threads that train the U-Net data-parallel, each on a slice of every batch (same
     * draws and, up to float rounding, the same updates as 1; checkpoints work with either).
     * 1 keeps it in the trainer's thread; 'auto' takes the cores there are, at most 4 (beyond
     * that the trainer's own thread is the bottleneck: 1,447 vs 1,450 images/s for 4 and 8 on 16
     * cores, MNIST MLP 2×2).
     */
    workers: z.union([z.number().int().min(1).max(64), z.literal('auto')]).optional(),
  }),
  z.strictObject({
    type: z.literal('pooled'),
    /** Pool size per layer index (reference `neighbor`): `[2]` Pool2, `[4]` Pool4, `[2,1,2]` Pool2-2. */
    neighbor: z.array(positiveInt).min(1),
  }),
  // Ablation base classifiers (@patchcert/ablation): plain cross-entropy on ablated images, the
  // model sees [H, W, 2C], and evaluation certifies the smoothed classifier instead of IBP.
  z.strictObject({
    /** Derandomized column smoothing (Levine & Feizi 2020) against the square patch threat. */
    type: z.literal('ablation-column'),
    /** s: width of the kept column band (at most the image width). */
    bandWidth: positiveInt,
  }),
  z.strictObject({
    /** Derandomized block smoothing: one kept s×s block per ablation (H·W votes per image). */
    type: z.literal('ablation-block'),
    /** s: side of the kept block (at most the image's smaller side). */
    bandWidth: positiveInt,
  }),
  z.strictObject({
    /** Random ablation (Levine & Feizi 2019) against the sparse (k pixel) threat. */
    type: z.literal('ablation-random'),
    /** Pixels kept per ablation (at most H·W); 45 for MNIST and 75 for CIFAR-10 in the paper. */
    kKeep: positiveInt,
    /** Certification: samples that pick the top class (default 100). */
    n0: positiveInt.optional(),
    /** Certification: samples that estimate its probability (default 1000). */
    n: positiveInt.optional(),
    /** Certification: one-sided failure probability of the Clopper–Pearson bound (default 0.05). */
    alpha: z.number().gt(0).lt(1).optional(),
  }),
]);

/** Image sides of the named datasets, to check ablation sizes when the config is read. */
const DATASET_SIDES: Record<string, [number, number]> = { mnist: [28, 28], 'fashion-mnist': [28, 28], cifar10: [32, 32] };

/** The JSON a training run is described by (one file per experiment in `configs/`). */
export const trainConfigSchema = z
  .strictObject({
    /** Run name (defaults to the file name). */
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    /** `mnist`, `fashion-mnist`, `cifar10` or `folder:<path>`. */
    dataset: z.string().regex(/^(mnist|fashion-mnist|cifar10|folder:.+)$/, { error: 'mnist, fashion-mnist, cifar10 or folder:<path>' }),
    architecture: z.enum(ARCHITECTURES),
    /**
     * Widths of the dense hidden layers (`buildModel`'s `hidden`): MLP `[255]` by default,
     * `[512]` in the MNIST k=10 sparse config.
     */
    hidden: z.array(positiveInt).min(1).optional(),
    threat: threatConfigSchema,
    strategy: strategyConfigSchema,
    epochs: positiveInt,
    batchSize: positiveInt.default(256),
    lr: z.number().positive(),
    /** Warm-up (reference `schedule_start`, `schedule_length`). */
    schedule: z.strictObject({ start: z.number().int().min(0), length: positiveInt }),
    /** StepLR after the warm-up. */
    lrDecay: z.strictObject({ step: positiveInt.default(10), factor: z.number().gt(0).max(1).default(0.5) }).default({ step: 10, factor: 0.5 }),
    seed: z.number().int().min(0).default(2019),
    /** CIFAR augmentation: horizontal flip + random crop with padding 4. */
    augment: z.boolean().default(false),
    data: z
      .strictObject({
        /** Train on the first N training images (reference `num_examples`). */
        trainLimit: positiveInt.optional(),
      })
      .default({}),
    eval: z
      .strictObject({
        /** Held-out test images certified (all locations) after every epoch; 0 turns it off. */
        epochLimit: z.number().int().min(0).default(1000),
        /** Test images of the final certified evaluation; omitted = the whole test set. */
        finalLimit: positiveInt.optional(),
        /** Images per certification batch. */
        batchSize: positiveInt.default(100),
        /** Certify the held-out subset every n epochs (the last epoch always). */
        every: positiveInt.default(1),
      })
      .default({ epochLimit: 1000, batchSize: 100, every: 1 }),
  })
  .superRefine((c, ctx) => {
    const sparseThreat = c.threat.type === 'sparse';
    const s = c.strategy;
    if (s.type === 'sparse' && !sparseThreat) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'type'], message: "a patch strategy (natural, all, random, guided, pooled) for a patch threat; 'sparse' needs threat.type 'sparse'" });
    }
    if (sparseThreat && s.type !== 'sparse' && s.type !== 'natural' && s.type !== 'ablation-random') {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'type'], message: `'sparse', 'ablation-random' or 'natural' for a sparse threat` });
    }
    if (s.type === 'ablation-random' && !sparseThreat) {
      ctx.addIssue({ code: 'custom', path: ['threat', 'type'], message: "'sparse' for strategy 'ablation-random' (random ablation certifies k changed pixels)" });
    }
    // The derandomized certificate counts the bands an m×m patch meets, so it needs a square patch.
    if ((s.type === 'ablation-column' || s.type === 'ablation-block') && c.threat.type !== 'patch') {
      ctx.addIssue({ code: 'custom', path: ['threat', 'type'], message: `'patch' (an m×m square) for strategy '${s.type}'` });
    }
    const sides = DATASET_SIDES[c.dataset];
    // The transposed draw (r, c) → (c, r) must land on the grid: square images need a square patch.
    if (s.type === 'guided' && s.transposeCoordinates && c.threat.type === 'rectangle' && sides && sides[0] - c.threat.height !== sides[1] - c.threat.width) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'transposeCoordinates'], message: `false for a ${c.threat.height}×${c.threat.width} patch on ${c.dataset} (the transposed reference quirk needs a square location grid)` });
    }
    if (sides) {
      const [h, w] = sides;
      if (s.type === 'ablation-column' && s.bandWidth > w) ctx.addIssue({ code: 'custom', path: ['strategy', 'bandWidth'], message: `<= ${w} (the width of ${c.dataset} images)` });
      if (s.type === 'ablation-block' && s.bandWidth > Math.min(h, w)) ctx.addIssue({ code: 'custom', path: ['strategy', 'bandWidth'], message: `<= ${Math.min(h, w)} (the smaller side of ${c.dataset} images)` });
      if (s.type === 'ablation-random' && s.kKeep > h * w) ctx.addIssue({ code: 'custom', path: ['strategy', 'kKeep'], message: `<= ${h * w} (the pixels of ${c.dataset} images)` });
    }
  });

/** A validated training configuration, defaults filled in. */
export type TrainConfig = z.output<typeof trainConfigSchema>;
/** A configuration as written in JSON (optional fields may be missing). */
export type TrainConfigInput = z.input<typeof trainConfigSchema>;
export type ThreatConfig = z.output<typeof threatConfigSchema>;
export type StrategyConfig = z.output<typeof strategyConfigSchema>;

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function expected(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`;
    case 'too_small':
      return `${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}${issue.origin === 'array' ? ' entries' : ''}`;
    case 'too_big':
      return `${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      if ('options' in issue && Array.isArray((issue as { options?: unknown }).options)) {
        return `one of ${((issue as unknown as { options: unknown[] }).options).map((v) => JSON.stringify(v)).join(', ')}`;
      }
      return 'a valid variant';
    case 'invalid_format':
      return issue.message;
    default:
      return issue.message;
  }
}

/**
 * Turns zod issues into one patchcert message per issue, naming file, field path, what is
 * expected and what was found.
 */
function describeIssues(fn: string, file: string, json: unknown, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const at = issue.path.length ? `'${issue.path.join('.')}'` : 'the top level';
      return `${file}: ${at} must not have the field(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}, but got them (typo?).`;
    }
    const path = issue.path.length ? issue.path.join('.') : '(root)';
    return `${file}: field '${path}' must be ${expected(issue)}, but got ${show(valueAt(json, issue.path))}.`;
  });
  return `Error in ${fn}: ${lines.length === 1 ? lines[0]! : `${lines.length} problems:\n  ${lines.join('\n  ')}`}`;
}

/**
 * Validates a parsed JSON training config and fills in defaults.
 *
 * @param json - the parsed JSON.
 * @param file - where it came from, for the error message.
 * @returns the validated config.
 * @throws PatchcertError `CONFIG_INVALID` naming the file, each bad field's path, what it must be
 *   and what it is.
 * @example
 * const config = parseTrainConfig(JSON.parse(text), 'configs/quick/mnist-mlp-p22-random10.json');
 */
export function parseTrainConfig(json: unknown, file = '<config>'): TrainConfig {
  const r = trainConfigSchema.safeParse(json);
  if (!r.success) throw new PatchcertError('CONFIG_INVALID', describeIssues('parseTrainConfig', file, json, r.error.issues), { cause: r.error });
  return r.data;
}

/**
 * Reads, parses and validates a config file.
 * @throws PatchcertError `FILE_NOT_FOUND` when the file cannot be read, `CONFIG_INVALID` for bad
 *   JSON or a bad field.
 */
export function loadTrainConfig(file: string): TrainConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PatchcertError('FILE_NOT_FOUND', `Error in loadTrainConfig: config must be a readable file, but got '${file}' (${(err as Error).message}).`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PatchcertError('CONFIG_INVALID', `Error in loadTrainConfig: ${file} must be valid JSON, but got a parse error (${(err as Error).message}).`, { cause: err });
  }
  return parseTrainConfig(json, file);
}

/** A short name of the threat, e.g. `patch 2x2` or `sparse k=4`. */
export function describeThreat(t: ThreatConfig): string {
  if (t.type === 'patch') return `patch ${t.size}x${t.size}`;
  if (t.type === 'rectangle') return `patch ${t.height}x${t.width}`;
  return `sparse k=${t.k}`;
}
