#!/usr/bin/env node
// The certify CLI: parses arguments and hands each command to its file in ./commands.
import { Command, CommanderError } from 'commander';
import { toPatchcertError } from '@patchcert/backend';
import { registerCertifyCommand } from './commands/certify.js';
import { registerReportCommand } from './commands/report.js';
import { registerAttackCommand } from './commands/attack.js';

/** Usage errors exit 2, failures while running exit 1 (the message; a stack only for INTERNAL errors). */
const USAGE_CODES = new Set(['INVALID_OPTION', 'INVALID_ARGUMENT', 'FILE_NOT_FOUND']);

const program = new Command('certify')
  .description('patchcert: certify models against adversarial patches (IBP), attack them, and report')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });
registerCertifyCommand(program);
registerReportCommand(program);
registerAttackCommand(program);

// `pnpm start -- <args>` forwards the `--` itself; without this commander would read every
// option after it as a positional argument.
const args = process.argv.slice(2);
if (args[0] === '--') args.shift();

try {
  await program.parseAsync(args, { from: 'user' });
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    const e = toPatchcertError(err);
    process.stderr.write(`${e.message}\n`);
    // An INTERNAL error is a bug, not bad input: its stack is what a bug report needs.
    if (e.code === 'INTERNAL' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    process.exitCode = USAGE_CODES.has(e.code) ? 2 : 1;
  }
}
