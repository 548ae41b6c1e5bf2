import { threatLabel, SHAPE_NAMES, type ThreatSpec } from './internal/threat-spec.js';
import { describeMode, methodThreatId, type CertifyMethod } from './internal/method-spec.js';
import type { CertifyResults, ImageResult, MethodResult, ThreatSummary } from './results.js';

/** The methods of a results file: its `methods`, or IBP on every threat for files written before methods existed. */
export function resultMethods(results: Pick<CertifyResults, 'threats'> & { methods?: MethodResult[] | undefined }): Array<Pick<MethodResult, 'method' | 'threats'> & Partial<MethodResult>> {
  return results.methods ?? [{ method: 'ibp', threats: results.threats.map((t) => t.id) }];
}

/** Whether one image is correctly classified by a method's classifier (the smoothed one for ablation methods). */
export function correctUnder(image: ImageResult, method: CertifyMethod): boolean {
  return method === 'ibp' ? image.correct : image.ablation?.[method]?.correct === true;
}

/** Whether one image is certified under a threat by a method; a missing verdict counts as not certified. */
export function certifiedUnder(image: ImageResult, method: CertifyMethod, threatId: string): boolean {
  return method === 'ibp' ? image.threats[threatId]?.certified === true : image.ablation?.[method]?.certified[threatId] === true;
}

/**
 * Certified and clean accuracy (fractions in [0,1]) per method and threat over the given images:
 * IBP rows first under the threat ids, then each ablation method's rows under
 * `<method>:<threat id>`.
 * @param threats - the threats, in output order.
 * @param images - per-image results; an image missing a verdict counts as not certified.
 * @param methods - the methods and the threat ids each certifies. @defaultValue IBP on every threat
 */
export function summarize(
  threats: readonly ThreatSpec[],
  images: readonly ImageResult[],
  methods: ReadonlyArray<Pick<MethodResult, 'method' | 'threats'>> = [{ method: 'ibp', threats: threats.map((t) => t.id) }],
): ThreatSummary[] {
  const n = images.length;
  const frac = (count: number) => (n ? count / n : 0);
  return methods.flatMap(({ method, threats: ids }) => {
    const correct = images.reduce((s, r) => s + (correctUnder(r, method) ? 1 : 0), 0);
    return threats
      .filter((t) => ids.includes(t.id))
      .map((t) => {
        const certified = images.reduce((s, r) => s + (certifiedUnder(r, method, t.id) ? 1 : 0), 0);
        return {
          threat: methodThreatId(method, t.id),
          label: method === 'ibp' ? threatLabel(t) : `${threatLabel(t)} · ${method}`,
          images: n,
          clean: frac(correct),
          certified: frac(certified),
          method,
          baseThreat: t.id,
        };
      });
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
 * The tables of a results file. For IBP: patches (clean / certified per patch size), the
 * shape-transfer table (paper Table 5 layout: one row per pixel count, one column per stencil)
 * and the sparse table (paper Tables 4/7 layout: one row per k, clean / certified under the
 * architecture). When an ablation method ran, also {@link methodTable}: every method side by side.
 */
export function resultTables(results: Pick<CertifyResults, 'threats' | 'summary' | 'dataset' | 'model'> & { methods?: MethodResult[] | undefined }): Table[] {
  const tables: Table[] = [];
  const methods = resultMethods(results);
  if (methods.some((m) => m.method === 'ibp')) tables.push(...ibpTables(results));
  if (methods.some((m) => m.method !== 'ibp')) tables.push(methodTable(results));
  return tables;
}

/** A method's column heading: `ibp`, `derandomized (column s=4)`, `random-ablation (kKeep=45, n=1000)`. */
export function methodHeading(m: Pick<MethodResult, 'method'> & Partial<MethodResult>): string {
  if (m.method === 'ibp' || !m.mode) return m.method;
  const mode = m.mode.mode === 'random-ablation' ? `kKeep=${m.mode.kKeep}` : describeMode(m.mode);
  return `${m.method} (${mode}${m.sampling ? `, n=${m.sampling.n}` : ''})`;
}

/**
 * One table with the methods side by side: a row per threat, a column per method with clean /
 * certified %, and two cost rows (passes per image, images/s).
 */
export function methodTable(results: Pick<CertifyResults, 'threats' | 'summary' | 'dataset'> & { methods?: MethodResult[] | undefined }): Table {
  const methods = resultMethods(results);
  const byId = new Map(results.summary.map((s) => [s.threat, s]));
  const dataset = results.dataset.name;
  const covered = results.threats.filter((t) => methods.some((m) => m.threats.includes(t.id)));
  const cost = (f: (m: MethodResult) => string) => methods.map((m) => (m.passKind !== undefined ? f(m as MethodResult) : '–'));
  return {
    title: 'Methods side by side (clean % / certified %)',
    header: ['dataset', 'threat', ...methods.map(methodHeading)],
    rows: [
      ...covered.map((t) => [
        dataset,
        threatLabel(t),
        ...methods.map((m) => {
          const s = m.threats.includes(t.id) ? byId.get(methodThreatId(m.method, t.id)) : undefined;
          return s ? `${pct(s.clean)} / ${pct(s.certified)}` : '–';
        }),
      ]),
      ['cost', 'passes / image', ...cost((m) => `${m.passesPerImage} ${m.passKind}`)],
      ['cost', 'images / s', ...cost((m) => m.imagesPerSecond.toFixed(2))],
    ],
  };
}

/** The IBP tables of the paper's layouts. */
function ibpTables(results: Pick<CertifyResults, 'threats' | 'summary' | 'dataset' | 'model'>): Table[] {
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
