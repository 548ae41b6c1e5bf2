import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, platform, arch } from 'node:os';
import { tf } from '@patchcert/backend';

/** What a result was measured on: the machine, and the versions of what ran. */
export interface MachineInfo {
  /** File-name slug for `results/<name>.{json,md}`: CPU model, cores and memory unless `--machine` names it. */
  name: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  tfjs: string;
  /** The workspace version and the git commit (`-dirty` when the tree has changes). */
  patchcert: string;
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    // A tarball without .git: the version alone identifies it.
    return 'no-git';
  }
}

/** A file-name-safe slug: lower case, runs of other characters folded to one dash. */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/**
 * Describes this machine and the software versions, for the header of every results file.
 *
 * @param name - the results file name; defaults to a slug of CPU model, cores and memory.
 * @returns the machine record.
 */
export function machineInfo(name?: string): MachineInfo {
  const cpuModel = (cpus()[0]?.model ?? 'unknown cpu').trim();
  const cores = cpus().length;
  const memoryGiB = Math.round(totalmem() / 2 ** 30);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    name: name ?? slug(`${cpuModel} ${cores}c ${memoryGiB}g`),
    cpuModel,
    cores,
    memoryGiB,
    os: `${platform()} ${arch()}`,
    node: process.version,
    tfjs: tf.version.tfjs,
    patchcert: `${pkg.version} (${gitCommit()})`,
  };
}

/** The 1/5/15-minute load averages, rounded, as `"1.8 / 3.4 / 6.1"`. */
export function loadAverage(): string {
  return loadavg()
    .map((v) => v.toFixed(1))
    .join(' / ');
}
