// Copies a finished training run into models/<name>/ with the figures the shipped-model test
// re-checks: pnpm --filter @patchcert/tests ship-model -- <run-dir> <name> <config-file>
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { initBackend, describeBackend } from '@patchcert/backend';
import { loadModel } from '@patchcert/models';
import { parseTrainConfig } from '@patchcert/trainers';
import { certifySubset, SHIPPED_SAMPLE_SEED, SHIPPED_SUBSET, type ShippedReference } from './shipped-model.js';

const [runArg, name, configArg] = process.argv.slice(2).filter((a) => a !== '--');
if (!runArg || !name || !configArg) {
  console.error('usage: ship-model <run-dir> <name> <config-file>');
  process.exit(2);
}
const cwd = process.env['INIT_CWD'] ?? process.cwd();
const repo = resolve(new URL('../..', import.meta.url).pathname);
const runDir = resolve(cwd, runArg);
const summary = JSON.parse(await readFile(join(runDir, 'summary.json'), 'utf8'));
if (summary.interrupted || !summary.final) throw new Error(`${runDir}: the run must have finished with a final evaluation`);

const tmp = join(repo, 'models', `.${name}.tmp`);
await rm(tmp, { recursive: true, force: true });
await mkdir(tmp, { recursive: true });
await cp(join(runDir, 'model'), join(tmp, 'model'), { recursive: true });
await cp(join(runDir, 'metrics.jsonl'), join(tmp, 'metrics.jsonl'));
await writeFile(join(tmp, 'config.json'), JSON.stringify(summary.config, null, 2) + '\n');

const info = await initBackend();
const model = await loadModel(join(tmp, 'model'));
const config = parseTrainConfig(summary.config, join(runDir, 'summary.json'));
const subset = await certifySubset(model, config, SHIPPED_SUBSET, SHIPPED_SAMPLE_SEED);
const reference: ShippedReference = {
  name,
  config: relative(repo, resolve(cwd, configArg)),
  fullTest: { images: summary.final.images, cleanAccuracy: summary.final.cleanAccuracy, certifiedAccuracy: summary.final.certifiedAccuracy },
  training: { epochs: config.epochs, trainSeconds: Math.round(summary.trainSeconds), machine: `${cpus().length}x ${cpus()[0]?.model ?? 'cpu'}`, backend: describeBackend(info) },
  subset: { images: SHIPPED_SUBSET, sampleSeed: SHIPPED_SAMPLE_SEED, ...subset },
};
await writeFile(join(tmp, 'reference.json'), JSON.stringify(reference, null, 1) + '\n');
const dest = join(repo, 'models', name);
await rm(dest, { recursive: true, force: true });
await rename(tmp, dest);
console.log(`shipped ${name}: clean ${(reference.fullTest.cleanAccuracy * 100).toFixed(2)}%, certified ${(reference.fullTest.certifiedAccuracy * 100).toFixed(2)}% on ${reference.fullTest.images} test images`);
