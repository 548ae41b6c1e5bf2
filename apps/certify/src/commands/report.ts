import type { Command } from 'commander';
import { readResults, writeFileAtomic } from '../results-file.js';
import { buildReportHtml } from '../report-html.js';
import { formatTable, resultTables } from '../summary.js';
import { userPath } from '../internal/user-path.js';

/**
 * Registers `report <results.json>`: rebuilds the HTML report (and prints the tables) from a
 * results file, e.g. one written by an older run or merged by another tool.
 */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('rebuild the HTML report and print the tables of a certify --json results file')
    .argument('<results-json>', 'results written by certify --json')
    .requiredOption('--out <file>', 'where to write the HTML report')
    .action((json: string, flags: { out: string }) => {
      const results = readResults(userPath(json));
      writeFileAtomic(userPath(flags.out), buildReportHtml(results));
      for (const table of resultTables(results)) process.stdout.write(formatTable(table) + '\n\n');
    });
}
