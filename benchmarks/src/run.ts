// Runs patchcert's benchmarks: every `*.bench.ts` under src/ (or only those named on the command
// line), one after another in this process. Each file exports `run(preset)`.
//
//   pnpm --filter @patchcert/benchmarks bench [--preset quick|full] [name …]
//
// A name selects the files whose path under src/ (without `.bench.ts`) equals it or ends with
// it: `backend/kernels` or `kernels`. The preset defaults to PATCHCERT_BENCH_PRESET, else quick.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { env, PatchcertError, toPatchcertError } from '@patchcert/backend';
import { BENCH_PRESETS, type BenchPreset } from './internal/preset.js';

const SRC = dirname(fileURLToPath(import.meta.url));
// Under tsx the sources run; from dist the compiled files do.
const SUFFIX = import.meta.url.endsWith('.ts') ? '.bench.ts' : '.bench.js';

/** A benchmark file: its name (path under src/ without the suffix) and location. */
interface BenchFile {
  name: string;
  path: string;
}

function findBenchFiles(dir: string): BenchFile[] {
  const out: BenchFile[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findBenchFiles(path));
    else if (entry.endsWith(SUFFIX)) out.push({ name: relative(SRC, path).slice(0, -SUFFIX.length).split(sep).join('/'), path });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function toPreset(v: string): BenchPreset {
  if ((BENCH_PRESETS as readonly string[]).includes(v)) return v as BenchPreset;
  throw new PatchcertError('INVALID_OPTION', `Error in bench: --preset must be one of ${BENCH_PRESETS.join(', ')}, but got '${v}'.`);
}

function select(files: BenchFile[], names: string[]): BenchFile[] {
  if (names.length === 0) return files;
  return names.map((n) => {
    const hit = files.find((f) => f.name === n || f.name.endsWith(`/${n}`));
    if (hit === undefined) {
      throw new PatchcertError(
        'INVALID_OPTION',
        `Error in bench: a benchmark name must be one of ${files.map((f) => f.name).join(', ')}, but got '${n}'.`,
      );
    }
    return hit;
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { preset: { type: 'string' } },
    allowPositionals: true,
  });
  const preset = toPreset(values.preset ?? env.benchPreset);
  const files = select(findBenchFiles(SRC), positionals);
  for (const file of files) {
    const mod = (await import(pathToFileURL(file.path).href)) as { run?: unknown };
    if (typeof mod.run !== 'function') {
      throw new PatchcertError(
        'INVALID_ARGUMENT',
        `Error in bench: ${file.name}${SUFFIX} must export an async function run(preset), but got ${typeof mod.run}.`,
      );
    }
    console.log(`\n# ${file.name} (${preset})`);
    const t0 = performance.now();
    await (mod.run as (p: BenchPreset) => Promise<void>)(preset);
    console.log(`# ${file.name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

main().catch((err: unknown) => {
  const e = toPatchcertError(err);
  console.error(`${e.code}: ${e.message}`);
  process.exitCode = 1;
});
