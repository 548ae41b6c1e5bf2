import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { env } from '@patchcert/backend';
import type { RawImages } from './internal/raw.js';

const MAGIC = 'PCDSET1\n';
const FORMAT_VERSION = 1;

/** The directory of dataset cache files: `<env.cacheDir>/datasets`. */
export function datasetCacheDir(): string {
  return join(env.cacheDir, 'datasets');
}

/**
 * A stable fingerprint of a source: path, size and modification time of the file, or of every
 * file below the directory. Any edit, replacement or move of the source changes it.
 */
export function sourceFingerprint(source: string): string {
  const h = createHash('sha256');
  const visit = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const n of readdirSync(p).sort()) visit(join(p, n));
    } else {
      h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  visit(source);
  return h.digest('hex');
}

/**
 * The cache file for a decoded split. `parts` names everything the decoded bytes depend on
 * (loader, source fingerprint, split, expected shape); the file name is a hash of them.
 */
export function cacheFile(label: string, parts: unknown): string {
  const key = createHash('sha256').update(JSON.stringify({ v: FORMAT_VERSION, parts })).digest('hex').slice(0, 24);
  return join(datasetCacheDir(), `${label.replace(/[^a-z0-9-]+/gi, '_')}-${key}.pcds`);
}

interface CacheHeader {
  count: number;
  shape: [number, number, number];
  classNames?: string[];
  imageBytes: number;
  labelBytes: number;
}

/**
 * Reads a cache file written by {@link writeCache}; `undefined` when it is missing or damaged
 * (a damaged cache is treated as a miss, never returned).
 */
export function readCache(file: string): RawImages | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  try {
    if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return undefined;
    const hlen = buf.readUInt32LE(8);
    const header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as CacheHeader;
    const start = 12 + hlen;
    const [h, w, c] = header.shape;
    if (header.imageBytes !== header.count * h * w * c || header.labelBytes !== header.count) return undefined;
    if (buf.length !== start + header.imageBytes + header.labelBytes) return undefined;
    const images = new Uint8Array(buf.buffer, buf.byteOffset + start, header.imageBytes);
    const labels = new Uint8Array(buf.buffer, buf.byteOffset + start + header.imageBytes, header.labelBytes);
    const raw: RawImages = { images, labels, count: header.count, shape: header.shape };
    if (header.classNames) raw.classNames = header.classNames;
    return raw;
  } catch {
    return undefined;
  }
}

/**
 * Writes decoded data atomically: to a temporary file in the same directory, then renamed over
 * the final name, so readers see either no file or a complete one. Failures (read-only cache
 * directory, full disk) are swallowed: the cache only saves time.
 *
 * @returns true when the file was written
 */
export function writeCache(file: string, raw: RawImages): boolean {
  const header: CacheHeader = {
    count: raw.count,
    shape: raw.shape,
    imageBytes: raw.images.length,
    labelBytes: raw.labels.length,
    ...(raw.classNames ? { classNames: raw.classNames } : {}),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.alloc(12);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      for (const part of [head, json, raw.images, raw.labels]) {
        let off = 0;
        while (off < part.length) off += writeSync(fd, part, off, part.length - off);
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}
