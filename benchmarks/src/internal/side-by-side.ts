import type { Bench } from 'tinybench';

/**
 * One row per task name and one column per Bench, so the same task on several backends reads
 * across a line. Cells are `median (min)` in ms: the machines patchcert is measured on are shared
 * and noisy, and the median and minimum resist that better than the mean.
 *
 * @param columns - column title → the Bench that ran under it.
 * @returns rows for `console.table`.
 */
export function sideBySide(columns: ReadonlyArray<readonly [string, Bench]>): Record<string, Record<string, string>> {
  const rows: Record<string, Record<string, string>> = {};
  // Every row gets every column, so a task a Bench left out reads n/a rather than blank.
  for (const [, bench] of columns) for (const task of bench.tasks) rows[task.name] ??= {};
  for (const row of Object.values(rows)) for (const [title] of columns) row[`${title} ms`] = 'n/a';
  for (const [title, bench] of columns) {
    for (const task of bench.tasks) {
      const latency = task.result?.latency;
      const row = (rows[task.name] ??= {});
      row[`${title} ms`] =
        latency === undefined ? 'n/a' : `${(latency.p50 ?? latency.mean).toFixed(1)} (${latency.min.toFixed(1)})`;
    }
  }
  return rows;
}
