import { threatLabel, SHAPE_NAMES, type ThreatSpec } from './internal/threat-spec.js';
import type { CertifyResults, ImageResult, ThreatSummary } from './results.js';

/**
 * Certified and clean accuracy (fractions in [0,1]) per threat over the given images.
 * @param threats - the threats, in output order.
 * @param images - per-image results; an image missing a threat counts as not certified.
 */
export function summarize(threats: readonly ThreatSpec[], images: readonly ImageResult[]): ThreatSummary[] {
  const n = images.length;
  const correct = images.reduce((s, r) => s + (r.correct ? 1 : 0), 0);
  return threats.map((t) => {
    const certified = images.reduce((s, r) => s + (r.threats[t.id]?.certified ? 1 : 0), 0);
    return { threat: t.id, label: threatLabel(t), images: n, clean: n ? correct / n : 0, certified: n ? certified / n : 0 };
  });
}

/** A table as header plus rows of cell text, rendered to the console and to HTML alike. */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
}

/** Percent with two decimals, the paper's precision. */
export function pct(x: number): string {
  return (100 * x).toFixed(2);
}

/**
 * The tables of a results file: patches (clean / certified per patch size), the shape-transfer
 * table (paper Table 5 layout: one row per pixel count, one column per stencil) and the sparse
 * table (paper Tables 4/7 layout: one row per k, clean / certified under the architecture).
 */
export function resultTables(results: Pick<CertifyResults, 'threats' | 'summary' | 'dataset' | 'model'>): Table[] {
  const byId = new Map(results.summary.map((s) => [s.threat, s]));
  const dataset = results.dataset.name;
  const arch = results.model.metadata.architecture;
  const tables: Table[] = [];
  const patches = results.threats.filter((t) => t.kind === 'patch');
  if (patches.length > 0) {
    tables.push({
      title: 'Patch certification',
      header: ['dataset', 'patch', 'images', 'clean %', 'certified %'],
      rows: patches.map((t) => {
        const s = byId.get(t.id);
        return [dataset, threatLabel(t), String(s?.images ?? 0), s ? pct(s.clean) : '–', s ? pct(s.certified) : '–'];
      }),
    });
  }
  const shapes = results.threats.filter((t): t is Extract<ThreatSpec, { kind: 'shape' }> => t.kind === 'shape');
  if (shapes.length > 0) {
    const counts = [...new Set(shapes.map((t) => t.pixels))];
    // All five columns of the paper's table; a stencil with no variant at a count shows "–".
    const names = SHAPE_NAMES;
    tables.push({
      title: 'Shape transfer (certified %, paper Table 5 layout)',
      header: ['dataset', 'pixels', ...names],
      rows: counts.map((px) => [
        dataset,
        String(px),
        ...names.map((n) => {
          // Several stencils per column (lines in both directions, rectangles of several sizes):
          // the worst certified accuracy among them, as the paper reports for rectangles.
          const cells = shapes.filter((t) => t.pixels === px && t.shape === n).map((t) => byId.get(t.id)).filter((s) => s !== undefined);
          return cells.length > 0 ? pct(Math.min(...cells.map((s) => s.certified))) : '–';
        }),
      ]),
    });
  }
  const sparse = results.threats.filter((t): t is Extract<ThreatSpec, { kind: 'sparse' }> => t.kind === 'sparse');
  if (sparse.length > 0) {
    tables.push({
      title: 'Sparse certification (clean / certified %, paper Tables 4/7 layout)',
      header: ['dataset', 'k', arch],
      rows: sparse.map((t) => {
        const s = byId.get(t.id);
        return [dataset, String(t.k), s ? `${pct(s.clean)} / ${pct(s.certified)}` : '–'];
      }),
    });
  }
  return tables;
}

/** Renders a table as aligned plain text for the terminal. */
export function formatTable(table: Table): string {
  const all = [table.header, ...table.rows];
  const widths = table.header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [table.title, line(table.header), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}
