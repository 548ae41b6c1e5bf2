import type { TrainResult } from '@patchcert/trainers';
import { describeThreat, strategyRun } from '@patchcert/trainers';

/** The strategy's size parameter in brackets, e.g. `(10)` for random(10), `(4)` for a band of width 4. */
function strategyParam(s: TrainResult['config']['strategy']): string {
  if ('k' in s) return `(${s.k})`;
  if ('bandWidth' in s) return `(${s.bandWidth})`;
  if ('kKeep' in s) return `(${s.kKeep})`;
  return '';
}

/** The one-screen summary printed at the end of a run. */
export function formatSummary(result: TrainResult, out: string, wallSeconds: number): string {
  const c = result.config;
  const f = result.final;
  const rows: [string, string][] = [
    ['config', `${c.name ?? '-'}: ${c.dataset}, ${c.architecture}, ${describeThreat(c.threat)}, strategy ${c.strategy.type}${strategyParam(c.strategy)}`],
    ['epochs', `${result.history.length}/${c.epochs}, batch ${c.batchSize}, lr ${c.lr}, warm-up ${c.schedule.start}+${c.schedule.length}, seed ${c.seed}`],
    ['training time', `${result.trainSeconds.toFixed(1)} s (wall ${wallSeconds.toFixed(1)} s)`],
  ];
  if (f) {
    rows.push(['clean accuracy', `${(100 * f.cleanAccuracy).toFixed(2)}% (${f.images} test images)`]);
    // Ablation strategies certify the smoothed classifier, not IBP bounds: name their certificate.
    const certificate = strategyRun(c).certificate;
    const how = certificate === 'ibp' ? `${c.threat.type === 'sparse' ? `any ${c.threat.k} pixels` : 'every location'}, eps 1` : certificate;
    rows.push(['certified accuracy', `${(100 * f.certifiedAccuracy).toFixed(2)}% (${how})`]);
  }
  rows.push(['model', result.modelDir || '-']);
  rows.push(['metrics', `${out}/metrics.jsonl`]);
  rows.push(['checkpoint', `${out}/checkpoint (resume with --resume)`]);
  const w = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  const rule = '-'.repeat(Math.min(78, Math.max(...lines.map((l) => l.length))));
  return [rule, result.interrupted ? '  run interrupted' : '  run finished', rule, ...lines, rule].join('\n');
}
