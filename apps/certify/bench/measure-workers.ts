// Measures certification throughput with 1 and 2 worker threads, interleaved so that load from
// other processes hits both alike. Each run is a fresh CLI process; the figure is images/s after
// start-up (backend + model load), as the CLI records it in the JSON results.
//
// Usage: node --conditions=@patchcert/source --import tsx bench/measure-workers.ts [model-dir]
//        [--arch mlp|cnn-4layer] [--images 200] [--patch 2x2,5x5] [--rounds 2]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { initBackend } from '@patchcert/backend';
import { buildModel, saveModel } from '@patchcert/models';
import type { CertifyResults } from '../src/results.js';

const argv = process.argv.slice(2);
if (argv[0] === '--') argv.shift();
const { values, positionals } = parseArgs({
  args: argv,
  allowPositionals: true,
  options: {
    arch: { type: 'string', default: 'mlp' },
    images: { type: 'string', default: '200' },
    patch: { type: 'string', default: '2x2,5x5' },
    rounds: { type: 'string', default: '2' },
  },
});
const app = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'certify-bench-'));
let modelDir = positionals[0];
if (!modelDir) {
  // Throughput does not depend on the weights, so an untrained model of the paper's shape will do.
  await initBackend('wasm');
  const model = buildModel(values.arch!, { inputShape: [28, 28, 1], numClasses: 10, dataset: 'mnist', seed: 1 });
  modelDir = join(tmp, values.arch!);
  await saveModel(model, modelDir);
  model.dispose();
}

const rows: Array<{ workers: number; round: number; imagesPerSecond: number; startup: number; load: number }> = [];
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const workers of [1, 2]) {
    const json = join(tmp, `w${workers}-r${round}.json`);
    const load = loadavg()[0]!;
    const r = spawnSync(
      process.execPath,
      ['--conditions=@patchcert/source', '--import', 'tsx', 'src/main.ts', modelDir, '--patch', values.patch!, '--limit', values.images!,
        '--workers', String(workers), '--json', json, '--no-progress', '--samples', '0'],
      { cwd: app, encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`certify failed: ${r.stderr}`);
    const res = JSON.parse(readFileSync(json, 'utf8')) as CertifyResults;
    const run = res.timing.runs[0]!;
    rows.push({ workers, round, imagesPerSecond: run.imagesPerSecond, startup: run.startupSeconds, load });
  }
}
rmSync(tmp, { recursive: true, force: true });

console.log(`model ${values.arch} (${positionals[0] ?? 'untrained'}), ${values.images} MNIST test images, patches ${values.patch}, ${cpus().length} cores`);
console.table(rows.map((r) => ({ workers: r.workers, round: r.round, 'images/s': r.imagesPerSecond.toFixed(1), 'start-up s': r.startup.toFixed(1), 'load avg': r.load.toFixed(1) })));
const mean = (w: number) => {
  const xs = rows.filter((r) => r.workers === w).map((r) => r.imagesPerSecond);
  return xs.reduce((a, b) => a + b, 0) / xs.length;
};
console.log(`mean images/s: 1 worker ${mean(1).toFixed(1)}, 2 workers ${mean(2).toFixed(1)} (×${(mean(2) / mean(1)).toFixed(2)})`);
