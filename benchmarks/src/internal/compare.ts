import { PatchcertError } from '@patchcert/backend';

/** The dimensions `--compare` can vary: the tfjs backend, or bounds' method (fast or naive). */
export type CompareKey = 'backend' | 'method';

/** `--compare key=a,b`: run every selected suite under `key=a`, then under `key=b`. */
export interface CompareSpec {
  key: CompareKey;
  values: readonly [string, string];
}

const KEYS: readonly CompareKey[] = ['backend', 'method'];

/**
 * Parses `backend=wasm,cpu` or `method=fast,naive`.
 *
 * @param text - the `--compare` argument.
 * @returns the key and its two values.
 * @throws PatchcertError `INVALID_OPTION` for another key, or not exactly two distinct values.
 */
export function parseCompare(text: string): CompareSpec {
  const m = /^([a-z]+)=([^,]+),([^,]+)$/.exec(text.trim());
  if (!m || !(KEYS as readonly string[]).includes(m[1]!) || m[2] === m[3]) {
    throw new PatchcertError(
      'INVALID_OPTION',
      `Error in bench: --compare must be <key>=<a>,<b> with key one of ${KEYS.join(', ')} and two different values (e.g. backend=wasm,cpu), but got '${text}'.`,
    );
  }
  return { key: m[1] as CompareKey, values: [m[2]!, m[3]!] };
}

/** One task measured under both configurations. */
export interface RatioRow {
  task: string;
  /** Median ms under the first value. */
  a: number;
  /** Median ms under the second value. */
  b: number;
  /** `a / b`: above 1 means the first configuration is slower. */
  ratio: number;
}

/**
 * Pairs the tasks both runs measured and divides their median times. Tasks only one side ran
 * (for example a row a backend leaves out) are dropped, in the first run's order.
 *
 * @param a - task → median ms under the first value.
 * @param b - task → median ms under the second value.
 * @returns one row per common task.
 */
export function ratioRows(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): RatioRow[] {
  const rows: RatioRow[] = [];
  for (const [task, ta] of a) {
    const tb = b.get(task);
    if (tb === undefined || !Number.isFinite(ta) || !Number.isFinite(tb) || tb <= 0) continue;
    rows.push({ task, a: ta, b: tb, ratio: ta / tb });
  }
  return rows;
}

/**
 * The geometric mean of the ratios: the one-number summary of a comparison, which, unlike the
 * arithmetic mean, treats 2× and 0.5× symmetrically.
 */
export function geometricMean(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return Math.exp(values.reduce((s, v) => s + Math.log(v), 0) / values.length);
}
