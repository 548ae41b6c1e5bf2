import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { initBackend, describeBackend } from '@patchcert/backend';
import { train, loadTrainConfig, parseTrainConfig, type TrainConfig, type TrainResult, type TrainEvent } from '@patchcert/trainers';
import { DEFAULT_CONFIG, DEFAULT_OUT } from '../default-config.js';
import { progressRenderer, type ProgressSink } from '../progress.js';
import { formatSummary } from '../summary.js';
import { userPath } from '../internal/user-path.js';

/** Options of the `train` command (all optional: no options trains the default demo). */
export interface TrainCommandOptions {
  /** JSON config file; the built-in default when omitted. */
  config?: string;
  /** Output directory. @defaultValue 'runs/default' */
  out?: string;
  /** Compute backend (`wasm`, `cpu`, `node`, `cuda`). @defaultValue env.backend (wasm) */
  backend?: string;
  /** Overrides `config.epochs`. */
  epochs?: number;
  /** Overrides `config.seed`. */
  seed?: number;
  /** Model directory whose weights start the run (fine-tuning). */
  init?: string;
  /** Continue from `<out>/checkpoint`. */
  resume?: boolean;
  /** Overrides `config.data.trainLimit`. */
  trainLimit?: number;
  /** Overrides `config.eval.finalLimit`. */
  finalLimit?: number;
  /** Skip the final test-set certification. */
  finalEval?: boolean;
}

/** Resolves the config a command runs: file or default, then the CLI overrides. */
export function resolveConfig(o: TrainCommandOptions): TrainConfig {
  const base = o.config ? loadTrainConfig(userPath(o.config)) : parseTrainConfig(DEFAULT_CONFIG, '<built-in default config>');
  const name = base.name ?? (o.config ? basename(o.config, '.json') : 'default');
  const merged = {
    ...base,
    name,
    ...(o.epochs !== undefined ? { epochs: o.epochs } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    data: { ...base.data, ...(o.trainLimit !== undefined ? { trainLimit: o.trainLimit } : {}) },
    eval: { ...base.eval, ...(o.finalLimit !== undefined ? { finalLimit: o.finalLimit } : {}) },
  };
  return parseTrainConfig(merged, `${o.config ?? '<built-in default config>'} with command-line overrides`);
}

/**
 * Runs one training from CLI options: prints the backend line, trains with live progress,
 * prints the summary. Ctrl-C stops after the current batch, keeping the last epoch checkpoint.
 *
 * @returns the training result.
 * @throws PatchcertError for a bad config or backend (the CLI prints it and exits 1).
 */
export async function runTrain(o: TrainCommandOptions, sink: ProgressSink = { write: (l) => console.log(l), isTTY: Boolean(process.stderr.isTTY) }, extra: { signal?: AbortSignal; onEvent?: (e: TrainEvent) => void } = {}): Promise<TrainResult> {
  await initBackend(o.backend);
  sink.write(describeBackend());
  const config = resolveConfig(o);
  const out = userPath(o.out ?? DEFAULT_OUT);
  const progress = progressRenderer(sink);
  const controller = new AbortController();
  const onSigint = (): void => {
    sink.write('\ninterrupt: stopping after this batch (the last epoch checkpoint stays; continue with --resume)');
    controller.abort();
  };
  process.once('SIGINT', onSigint);
  extra.signal?.addEventListener('abort', () => controller.abort());
  const t0 = performance.now();
  try {
    const result = await train(config, {
      out,
      resume: o.resume ?? false,
      ...(o.init !== undefined ? { init: userPath(o.init) } : {}),
      finalEval: o.finalEval ?? true,
      signal: controller.signal,
      onEvent: (e) => {
        progress.onEvent(e);
        extra.onEvent?.(e);
      },
    });
    progress.stop();
    sink.write(formatSummary(result, out, (performance.now() - t0) / 1000));
    return result;
  } finally {
    progress.stop();
    process.removeListener('SIGINT', onSigint);
  }
}

function int(name: string, min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, but got '${v}'.`);
    return n;
  };
}

/**
 * Adds the train options and action to `program` (the trainer CLI has this one command, so it is
 * the root command). Errors propagate to main, which prints them and sets the exit code.
 */
export function configureTrainCommand(program: Command): Command {
  return program
    .description('certificate-train a model from a JSON config (no options: a quick MNIST 2x2 MLP demo)')
    .option('-c, --config <file>', 'JSON config (see configs/); default: the built-in quick demo')
    .option('-o, --out <dir>', 'output directory (checkpoint/, metrics.jsonl, model/, summary.json)', DEFAULT_OUT)
    .option('-b, --backend <name>', 'compute backend: wasm, cpu, node or cuda')
    .option('-e, --epochs <n>', 'override the config epochs', int('--epochs', 1))
    .option('-s, --seed <n>', 'override the config seed', int('--seed', 0))
    .option('--train-limit <n>', 'train on the first n training images', int('--train-limit', 1))
    .option('--final-limit <n>', 'certify the first n test images at the end', int('--final-limit', 1))
    .option('--no-final-eval', 'skip the final certified evaluation')
    .option('-r, --resume', 'continue from <out>/checkpoint (the last completed epoch)')
    .option('--init <model-dir>', 'start from the weights of a saved model with the same architecture (fine-tuning)')
    .action(async (opts: TrainCommandOptions) => {
      const r = await runTrain(opts);
      if (r.interrupted) process.exitCode = 130;
    });
}
