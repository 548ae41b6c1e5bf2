#!/usr/bin/env node
// The trainer CLI: `pnpm --filter trainer start -- --config configs/... --out runs/x`.
import { Command, CommanderError } from 'commander';
import { toPatchcertError } from '@patchcert/backend';
import { configureTrainCommand } from './commands/train.js';

/** Usage and config errors exit 2, failures while training exit 1 (the message; a stack only for INTERNAL errors). */
const USAGE_CODES = new Set(['INVALID_OPTION', 'INVALID_ARGUMENT', 'FILE_NOT_FOUND', 'CONFIG_INVALID']);

const program = configureTrainCommand(new Command('trainer'))
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

// `pnpm start -- <args>` forwards the `--` itself; drop it so the options still parse.
const args = process.argv.slice(2);
if (args[0] === '--') args.shift();

try {
  await program.parseAsync(args, { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const e = toPatchcertError(err);
    process.stderr.write(`${e.message} [${e.code}]\n`);
    // An INTERNAL error is a bug, not bad input: its stack is what a bug report needs.
    if (e.code === 'INTERNAL' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = USAGE_CODES.has(e.code) ? 2 : 1;
  }
}
