import { Command, InvalidArgumentError } from 'commander';
import { runCertify, type CertifyRunOptions } from '../run-certify.js';
import { userPath } from '../internal/user-path.js';
import { intOption } from '../internal/int-option.js';

function probabilityOption(name: string) {
  return (value: string): number => {
    const p = Number(value);
    if (value.trim() === '' || !(p > 0 && p < 1)) throw new InvalidArgumentError(`${name} must be a number in (0, 1), but got '${value}'.`);
    return p;
  };
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** What commander parses: {@link CertifyRunOptions} as typed on the command line (paths unresolved). */
type CertifyFlags = Omit<CertifyRunOptions, 'modelDir' | 'ablationModels' | 'signal' | 'argv'> & {
  /** `--ablation-model`, repeatable. */
  ablationModel?: string[];
};

/**
 * Registers `certify <model-dir>` as the default command: certified and clean accuracy over the
 * test set for every threat model and method given, JSON results and an HTML report.
 */
export function registerCertifyCommand(program: Command): void {
  program
    .command('certify', { isDefault: true })
    .description('certify a saved model against patch, shape and sparse threat models on the test set (IBP and ablation certificates)')
    .argument('<model-dir>', 'directory written by saveModel (the IBP model; an ablation classifier when ibp is not in --method)')
    .option('--method <list>', 'ibp | derandomized | random-ablation, comma-separated (default ibp)')
    .option('--ablation-model <dir>', 'ablation classifier from trainAblationClassifier for derandomized / random-ablation (repeatable)', collect)
    .option('--rs-n0 <n>', 'random ablation: selection samples per image (default 100)', intOption('--rs-n0'))
    .option('--rs-n <n>', 'random ablation: estimation samples per image (default 1000)', intOption('--rs-n'))
    .option('--rs-alpha <p>', 'random ablation: failure probability of the bound (default 0.05)', probabilityOption('--rs-alpha'))
    .option('--rs-seed <n>', 'random ablation: seed (image i draws from a seed of this and i; default 0)', intOption('--rs-seed', 0))
    .option('--dataset <name>', 'mnist | fashion-mnist | cifar10 | folder:<path> (default: the model\'s dataset)')
    .option('--patch <sizes>', 'square or rectangular patches, e.g. 2x2,5x5 (default 2x2,5x5 when no threat is given)')
    .option('--shapes <pixels>', 'shape-transfer table at these pixel counts, e.g. 4,16,25')
    .option('--shape-names <names>', 'stencils of the shape table', 'square,rectangle,line,diamond,parallelogram')
    .option('--sparse <ks>', 'sparse threat: k changed pixels, e.g. 1,4,10')
    .option('--limit <n>', 'certify only the first n test images', intOption('--limit'))
    .option('--sample <n>', 'certify a fixed random sample of n test images (for class-sorted folders)', intOption('--sample'))
    .option('--seed <n>', 'seed of --sample', intOption('--seed', 0))
    .option('--backend <name>', 'wasm | cpu | node | cuda (default: PATCHCERT_BACKEND or wasm)')
    .option('--workers <n>', 'worker threads, each with its own backend (default: PATCHCERT_WORKERS or 1)', intOption('--workers'))
    .option('--batch-size <n>', 'images per certify call', intOption('--batch-size'), 32)
    .option('--samples <n>', 'report examples kept per group (certified / not certified)', intOption('--samples', 0), 6)
    .option('--json <file>', 'write per-image results here (incrementally, atomically)')
    .option('--report <file>', 'write the self-contained HTML report here')
    .option('--resume', 'continue the partial results in --json')
    .option('--no-progress', 'no progress bar or tables')
    .action(async (modelDir: string, flags: CertifyFlags) => {
      // SIGINT stops dispatching, keeps every finished image, marks the results partial and
      // writes them; a second Ctrl-C exits at once.
      const controller = new AbortController();
      const onSigint = () => {
        process.removeListener('SIGINT', onSigint);
        process.stderr.write('\ninterrupted: writing partial results…\n');
        controller.abort();
      };
      process.on('SIGINT', onSigint);
      try {
        const { interrupted } = await runCertify({
          modelDir: userPath(modelDir),
          ...(flags.method !== undefined ? { method: flags.method } : {}),
          ...(flags.ablationModel !== undefined ? { ablationModels: flags.ablationModel.map(userPath) } : {}),
          ...(flags.rsN0 !== undefined ? { rsN0: flags.rsN0 } : {}),
          ...(flags.rsN !== undefined ? { rsN: flags.rsN } : {}),
          ...(flags.rsAlpha !== undefined ? { rsAlpha: flags.rsAlpha } : {}),
          ...(flags.rsSeed !== undefined ? { rsSeed: flags.rsSeed } : {}),
          ...(flags.dataset !== undefined ? { dataset: flags.dataset } : {}),
          ...(flags.patch !== undefined ? { patch: flags.patch } : {}),
          ...(flags.shapes !== undefined ? { shapes: flags.shapes, shapeNames: flags.shapeNames } : {}),
          ...(flags.sparse !== undefined ? { sparse: flags.sparse } : {}),
          ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
          ...(flags.sample !== undefined ? { sample: flags.sample } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          ...(flags.backend !== undefined ? { backend: flags.backend } : {}),
          ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
          ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
          ...(flags.samples !== undefined ? { samples: flags.samples } : {}),
          ...(flags.json !== undefined ? { json: userPath(flags.json) } : {}),
          ...(flags.report !== undefined ? { report: userPath(flags.report) } : {}),
          resume: flags.resume ?? false,
          progress: flags.progress ?? true,
          signal: controller.signal,
          argv: process.argv.slice(2),
        });
        // 130 = 128 + SIGINT, the shell convention for a run stopped by Ctrl-C.
        if (interrupted) process.exitCode = 130;
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
