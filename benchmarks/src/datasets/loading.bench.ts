// datasets/loading: loading a split (cold = nothing cached, cached = decoded bytes read back from
// env.cacheDir) and one epoch of float32 batches, for embedded MNIST, Fashion-MNIST (when the
// Debian package is installed) and the shared CIFAR-10 JPEG tarball. The cache points at a
// temporary directory so the user's cache is neither read nor filled.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';
import { describeBackend, env, initBackend, PatchcertError, Rng, tf } from '@patchcert/backend';
import { batches, loadDataset, type DatasetSplit, type ImageDataset } from '@patchcert/datasets';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import type { BenchRunOptions } from '../internal/options.js';
import { recordBench } from '../internal/results.js';

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';

function freshCache(): void {
  rmSync(env.cacheDir, { recursive: true, force: true });
  env.cacheDir = mkdtempSync(join(tmpdir(), 'pc-bench-cache-'));
}

/** A load task; `cold` empties the cache before every run, else the cache is filled once first. */
function addLoad(bench: Bench, name: string, dataset: string, split: DatasetSplit, cold: boolean): void {
  bench.add(
    name,
    async () => {
      const ds = await loadDataset(dataset, { split });
      if (ds.count === 0) throw new Error(`${dataset} is empty`);
    },
    cold
      ? { beforeEach: freshCache }
      : {
          beforeAll: async () => {
            freshCache();
            await loadDataset(dataset, { split });
          },
        },
  );
}

/** One epoch of batches: gather, optional augmentation, uint8 → float32 and tensor upload. */
function addEpoch(bench: Bench, name: string, get: () => ImageDataset, augment: boolean, beforeAll?: () => Promise<void>): void {
  bench.add(
    name,
    () => {
      const rng = new Rng(0);
      for (const { x, y } of batches(get(), { batchSize: 256, shuffle: true, rng, augment })) {
        x.dataSync();
        tf.dispose([x, y]);
      }
    },
    beforeAll ? { beforeAll } : {},
  );
}

/** Why CIFAR-10 cannot be loaded here (FILE_NOT_FOUND), or undefined when it can. */
async function missingCifar(): Promise<string | undefined> {
  try {
    await loadDataset('cifar10', { split: 'test', limit: 1 });
    return undefined;
  } catch (err) {
    if (err instanceof PatchcertError && err.code === 'FILE_NOT_FOUND') return err.message;
    throw err;
  }
}

/**
 * Runs the loading benchmarks on the default backend (or `options.backends[0]`).
 * @param preset - `quick` (CIFAR test split only) or `full`.
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  const userCache = env.cacheDir;
  env.cacheDir = mkdtempSync(join(tmpdir(), 'pc-bench-cache-'));
  const info = await initBackend(options.backends?.[0]);
  // Cold loads of the JPEG copy take seconds each; a long warm-up would only repeat them.
  const slow = { ...benchOptions(preset, 'x'), iterations: 1, time: 0, warmupIterations: preset === 'quick' ? 0 : 1 };
  const bench = new Bench(benchOptions(preset, `datasets/loading ${describeBackend(info)}`));
  const slowBench = new Bench({ ...slow, name: `datasets/loading (cold/cached JPEG, ${preset}) ${describeBackend(info)}` });
  let mnist: ImageDataset | undefined;
  let cifar: ImageDataset | undefined;
  try {
    addLoad(bench, 'mnist train 60000x28x28x1 load (raw IDX, never cached)', 'mnist', 'train', true);
    addEpoch(bench, 'mnist train epoch: batches 256, shuffled → float32 tensors', () => mnist!, false, async () => {
      mnist = await loadDataset('mnist');
    });
    if (existsSync(FASHION_DIR)) {
      addLoad(bench, 'fashion-mnist train 60000x28x28x1 load cold (gunzip IDX)', 'fashion-mnist', 'train', true);
      addLoad(bench, 'fashion-mnist train 60000x28x28x1 load cached', 'fashion-mnist', 'train', false);
    }
    const splits: DatasetSplit[] = preset === 'full' ? ['test', 'train'] : ['test'];
    // A fresh clone has no CIFAR-10 copy (shared/datasets beside the repository): leave its rows
    // out, say why, and keep the rest of `pnpm bench` running.
    const cifarMissing = await missingCifar();
    for (const split of cifarMissing ? [] : splits) {
      const n = split === 'train' ? 50000 : 10000;
      addLoad(slowBench, `cifar10-jpeg ${split} ${n}x32x32x3 load cold (gunzip + tar + JPEG decode)`, 'cifar10', split, true);
      addLoad(slowBench, `cifar10-jpeg ${split} ${n}x32x32x3 load cached`, 'cifar10', split, false);
    }
    if (!cifarMissing) {
      addEpoch(
        bench,
        `cifar10 ${splits.at(-1)} epoch: batches 256, shuffled + crop/flip → float32 tensors`,
        () => cifar!,
        true,
      );
      await slowBench.run();
      cifar = await loadDataset('cifar10', { split: splits.at(-1)! });
    }
    await bench.run();
    for (const b of cifarMissing ? [bench] : [slowBench, bench]) {
      console.log(`\n${b.name}`);
      console.table(b.table());
      recordBench(b);
    }
    if (!existsSync(FASHION_DIR)) console.log(`skipped fashion-mnist: ${FASHION_DIR} is not installed`);
    if (cifarMissing) console.log(`skipped cifar10: ${cifarMissing}`);
  } finally {
    rmSync(env.cacheDir, { recursive: true, force: true });
    env.cacheDir = userCache;
  }
}
