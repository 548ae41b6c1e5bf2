import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PatchcertError, mustBe } from '@patchcert/backend';
import type { DatasetSplit } from './dataset.js';
import { decodeImage, isImageFile } from './internal/decode-image.js';
import { formatError } from './internal/fail.js';
import { exists, statOrThrow } from './internal/files.js';
import type { RawImages } from './internal/raw.js';
import { isTarPath, readTarFiles } from './internal/tar-files.js';

/** Options of {@link readImageFolder}; every field is optional. */
export interface ImageFolderOptions {
  /**
   * Required `[height, width, channels]`. Every image must have this height and width; the
   * channel count (1 or 3) sets the output.
   * @defaultValue undefined: the first image sets height and width; channels are 1 when every
   * decoded image is grayscale, else 3
   */
  shape?: [number, number, number];
  /**
   * Chooses which images (indices into the split in sorted order) to decode, given how many
   * there are; `undefined` decodes all. Lets a small subset skip decoding the rest.
   * @defaultValue undefined
   */
  pick?: (count: number) => Int32Array | undefined;
}

/** The split names recognised as top-level folders of an image folder. */
export const IMAGE_FOLDER_SPLITS: readonly DatasetSplit[] = ['train', 'test'];

interface FolderEntry {
  className: string;
  /** Name shown in errors: a path, or `archive:member`. */
  display: string;
  read: () => Uint8Array;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function listDirectory(root: string, split: DatasetSplit): { classNames: string[]; entries: FolderEntry[] } {
  const fn = 'readImageFolder';
  const isDir = (p: string) => exists(p) && statSync(p).isDirectory();
  const splitDir = join(root, split);
  if (!isDir(splitDir)) {
    throw new PatchcertError('FILE_NOT_FOUND', mustBe(fn, `image folder '${root}'`, `a directory with a '${split}/' folder of class folders`, 'no such folder'));
  }
  const classes = new Set<string>();
  for (const s of IMAGE_FOLDER_SPLITS) {
    const d = join(root, s);
    if (!isDir(d)) continue;
    for (const c of readdirSync(d)) if (isDir(join(d, c))) classes.add(c);
  }
  const entries: FolderEntry[] = [];
  for (const c of readdirSync(splitDir).filter((c) => isDir(join(splitDir, c))).sort(byCodeUnit)) {
    for (const f of readdirSync(join(splitDir, c)).filter(isImageFile).sort(byCodeUnit)) {
      const path = join(splitDir, c, f);
      entries.push({ className: c, display: path, read: () => readFileSync(path) });
    }
  }
  return { classNames: [...classes].sort(byCodeUnit), entries };
}

async function listArchive(file: string, split: DatasetSplit): Promise<{ classNames: string[]; entries: FolderEntry[] }> {
  const fn = 'readImageFolder';
  // Members look like `[prefix/]<split>/<class>/<file>`.
  const parts = (p: string) => {
    const s = p.split('/');
    return s.length >= 3 ? { split: s[s.length - 3]!, cls: s[s.length - 2]!, name: s[s.length - 1]! } : undefined;
  };
  const { paths, contents } = await readTarFiles(fn, file, (p) => {
    const q = parts(p);
    return q !== undefined && q.split === split && isImageFile(q.name);
  });
  const classes = new Set<string>();
  let splitSeen = false;
  for (const p of paths) {
    const q = parts(p);
    if (q && (IMAGE_FOLDER_SPLITS as readonly string[]).includes(q.split)) {
      classes.add(q.cls);
      if (q.split === split) splitSeen = true;
    }
  }
  if (!splitSeen) {
    throw new PatchcertError('FILE_NOT_FOUND', mustBe(fn, `archive '${file}'`, `a '${split}/<class>/<image>' member`, 'none'));
  }
  const kept = [...contents.keys()].sort((a, b) => {
    const qa = parts(a)!;
    const qb = parts(b)!;
    return byCodeUnit(qa.cls, qb.cls) || byCodeUnit(qa.name, qb.name);
  });
  const entries = kept.map((p) => ({ className: parts(p)!.cls, display: `${file}:${p}`, read: () => contents.get(p)! }));
  return { classNames: [...classes].sort(byCodeUnit), entries };
}

/**
 * Reads one split of an image-folder dataset, `<split>/<class>/<image>.png|jpg`, from a
 * directory or a tar / tar.gz archive (streamed once). Class names are the sorted union of the
 * class folders of all splits, so train and test agree on label indices. Images are sorted by
 * class, then by file name, and stored as NHWC bytes.
 *
 * @param source a directory or a `.tar`, `.tar.gz` or `.tgz` file
 * @throws PatchcertError FILE_NOT_FOUND when the source or the split is missing; DATA_FORMAT
 * when an image does not decode or its size differs, or the split holds no images
 */
export async function readImageFolder(source: string, split: DatasetSplit, options: ImageFolderOptions = {}): Promise<RawImages> {
  const fn = 'readImageFolder';
  statOrThrow(fn, source, 'image folder');
  const { classNames, entries } = isTarPath(source) ? await listArchive(source, split) : listDirectory(source, split);
  if (entries.length === 0) {
    throw formatError(fn, `split '${split}' of '${source}'`, 'at least one .png/.jpg image', 'none');
  }
  if (classNames.length > 256) {
    throw formatError(fn, `the class count of '${source}'`, 'at most 256 (labels are bytes)', `${classNames.length}`);
  }
  const picked = options.pick?.(entries.length);
  const order = picked ?? Int32Array.from(entries.keys());
  const count = order.length;
  let h = options.shape?.[0] ?? 0;
  let w = options.shape?.[1] ?? 0;
  let rgb = new Uint8Array(0);
  let allGray = true;
  const labels = new Uint8Array(count);
  const classIndex = new Map(classNames.map((c, i) => [c, i]));
  for (let k = 0; k < count; k++) {
    const e = entries[order[k]!]!;
    const img = decodeImage(e.read(), e.display);
    if (h === 0) {
      h = img.height;
      w = img.width;
    }
    if (img.height !== h || img.width !== w) {
      const why = options.shape ? 'the dataset\'s size' : `the size of '${entries[order[0]!]!.display}'`;
      throw formatError(fn, `image '${e.display}'`, `${h}x${w} (height x width, ${why})`, `${img.height}x${img.width}`);
    }
    if (rgb.length === 0) rgb = new Uint8Array(count * h * w * 3);
    rgb.set(img.rgb, k * h * w * 3);
    allGray &&= img.gray;
    labels[k] = classIndex.get(e.className)!;
  }
  const channels = options.shape?.[2] ?? (allGray ? 1 : 3);
  let images = rgb;
  if (channels === 1) {
    // Gray images decode with r = g = b; for a colour file forced to one channel use luma.
    images = new Uint8Array(count * h * w);
    for (let p = 0; p < images.length; p++) {
      const r = rgb[3 * p]!;
      const g = rgb[3 * p + 1]!;
      const b = rgb[3 * p + 2]!;
      images[p] = r === g && g === b ? r : Math.round(0.299 * r + 0.587 * g + 0.114 * b);
    }
  }
  return { images, labels, count, shape: [h, w, channels], classNames };
}
