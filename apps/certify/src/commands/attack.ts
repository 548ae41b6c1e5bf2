import { mkdir, writeFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { describeBackend, env, initBackend, PatchcertError, toBackendName, tf } from '@patchcert/backend';
import { loadDataset, datasetTensors } from '@patchcert/datasets';
import { loadModel } from '@patchcert/models';
import { attackTable, formatAttackTable, patchGeometry, DEFENSE_NAMES, type AttackTableRow, type DefenseName, type Placement } from '@patchcert/attacks';
import { intOption } from '../internal/int-option.js';
import { userPath } from '../internal/user-path.js';

function numberOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, but got '${value}'.`);
    return n;
  };
}

function listOption<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    const bad = items.filter((s) => !allowed.includes(s as T));
    if (items.length === 0 || bad.length > 0) {
      throw new InvalidArgumentError(`${name} must be a comma list of ${allowed.join(', ')}, but got '${value}'.`);
    }
    return items as T[];
  };
}

interface AttackFlags {
  dataset?: string;
  patch: string;
  limit: number;
  restarts: number;
  steps: number;
  stepSize: number;
  defenses: DefenseName[];
  placements: Placement[];
  adaptive: boolean;
  referenceQuirk?: boolean;
  seed: number;
  batchSize: number;
  backend?: string;
  json?: string;
}

/** What `attack --json` writes. */
export interface AttackReport {
  model: string;
  dataset: string;
  backend: string;
  settings: Omit<AttackFlags, 'json' | 'backend' | 'dataset'>;
  /** One table per patch size. */
  tables: Array<{ patch: string; rows: AttackTableRow[] }>;
}

/**
 * Registers `attack <model-dir>`: the paper's Table 1/2 experiment for a saved model. For each
 * patch size, the patch attack (corner-only and random placement) on the undefended model, on
 * LGS and DW with the adversarial images made without them, and the adaptive attack through
 * each defense; clean and adversarial accuracy on the first `--limit` test images.
 */
export function registerAttackCommand(program: Command): void {
  program
    .command('attack')
    .description('empirical patch attacks (IFGSM) with and through the LGS and DW defenses: the paper\'s Table 1/2 rows')
    .argument('<model-dir>', 'directory written by saveModel')
    .option('--dataset <name>', 'mnist | fashion-mnist | cifar10 | folder:<path> (default: the model\'s dataset)')
    .option('--patch <sizes>', 'patch sizes, e.g. 2x2 or 2x2,5x5', '2x2')
    .option('--limit <n>', 'attack the first n test images (the reference uses about 400)', intOption('--limit'), 400)
    .option('--restarts <n>', 'random restarts (locations) per image', intOption('--restarts'), 80)
    .option('--steps <n>', 'sign-gradient steps per restart', intOption('--steps', 0), 150)
    .option('--step-size <x>', 'step in pixel units', numberOption('--step-size'), 0.05)
    .option('--defenses <list>', `comma list of ${DEFENSE_NAMES.join(', ')}`, listOption('--defenses', DEFENSE_NAMES), [...DEFENSE_NAMES])
    .option('--placements <list>', 'comma list of corners, random, all', listOption<Placement>('--placements', ['corners', 'random', 'all']), ['corners', 'random'] as Placement[])
    .option('--no-adaptive', 'skip the adaptive attacks through the defenses')
    .option('--reference-quirk', 'random locations exclude the last row/column of origins, as the reference code does (Q3)')
    .option('--seed <n>', 'seed of locations and random starts', intOption('--seed', 0), 0)
    .option('--batch-size <n>', 'attack rows (image x restart) per pass', intOption('--batch-size'), 1024)
    .option('--backend <name>', 'wasm | cpu | node | cuda (default: PATCHCERT_BACKEND or wasm)')
    .option('--json <file>', 'write the rows here as JSON')
    .action(async (modelDir: string, flags: AttackFlags) => {
      const patches = flags.patch.split(',').map((s) => s.trim()).filter(Boolean);
      if (patches.length === 0) throw new PatchcertError('INVALID_OPTION', `Error in attack: --patch must list patch sizes like 2x2,5x5, but got '${flags.patch}'.`);
      for (const p of patches) patchGeometry(p, 'attack');
      const backend = flags.backend !== undefined ? toBackendName(flags.backend) : env.backend;
      const info = await initBackend(backend);
      const dir = userPath(modelDir);
      const model = await loadModel(dir);
      const datasetName = flags.dataset ?? model.metadata.dataset;
      const ds = await loadDataset(datasetName, { split: 'test', limit: flags.limit });
      const [h, w, c] = model.metadata.inputShape;
      if (ds.shape[0] !== h || ds.shape[1] !== w || ds.shape[2] !== c) {
        model.dispose();
        throw new PatchcertError('SHAPE_MISMATCH', `Error in attack: dataset images must be [${model.metadata.inputShape}] like the model's input, but ${datasetName} has [${ds.shape}].`);
      }
      const { x, y } = datasetTensors(ds);
      process.stderr.write(`${describeBackend(info)}\nmodel ${dir} (${model.metadata.architecture}), ${ds.count} ${datasetName} test images\n`);
      const report: AttackReport = {
        model: dir,
        dataset: datasetName,
        backend: describeBackend(info),
        settings: {
          patch: flags.patch,
          limit: flags.limit,
          restarts: flags.restarts,
          steps: flags.steps,
          stepSize: flags.stepSize,
          defenses: flags.defenses,
          placements: flags.placements,
          adaptive: flags.adaptive,
          referenceQuirk: flags.referenceQuirk ?? false,
          seed: flags.seed,
          batchSize: flags.batchSize,
        },
        tables: [],
      };
      try {
        for (const patch of patches) {
          const rows = attackTable(model, x, y, {
            threat: patch,
            defenses: flags.defenses,
            placements: flags.placements,
            adaptive: flags.adaptive,
            restarts: flags.restarts,
            steps: flags.steps,
            stepSize: flags.stepSize,
            seed: flags.seed,
            batchSize: flags.batchSize,
            referenceQuirk: flags.referenceQuirk ?? false,
            onRow: (r) => process.stderr.write(`  ${patch} ${r.placement} ${r.attack} vs ${r.defense}: clean ${(100 * r.cleanAccuracy).toFixed(1)}% adv ${(100 * r.adversarialAccuracy).toFixed(1)}% (${r.seconds.toFixed(1)} s)\n`),
          });
          report.tables.push({ patch, rows });
          process.stdout.write(`\npatch ${patch}\n${formatAttackTable(rows)}\n`);
        }
      } finally {
        tf.dispose([x, y]);
        model.dispose();
      }
      if (flags.json) {
        const file = userPath(flags.json);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
        await rename(`${file}.tmp`, file);
      }
    });
}
