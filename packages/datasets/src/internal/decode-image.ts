import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { formatError } from './fail.js';

/** One decoded image as interleaved RGB bytes. */
export interface DecodedImage {
  width: number;
  height: number;
  /** True when the file stores a single gray channel (then r = g = b). */
  gray: boolean;
  /** `height * width * 3` bytes, RGB, row-major. */
  rgb: Uint8Array;
}

/** The image file extensions an image folder may hold. */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** True when `name` ends in a supported image extension (case-insensitive). */
export function isImageFile(name: string): boolean {
  const lower = name.toLowerCase();
  return IMAGE_EXTENSIONS.some((e) => lower.endsWith(e));
}

const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** Number of colour components in a JPEG's start-of-frame header, or 3 if none is found. */
function jpegComponents(b: Uint8Array): number {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return 3;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++;
      continue;
    }
    const len = (b[i + 2]! << 8) | b[i + 3]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the component count at +9.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return b[i + 9]!;
    i += 2 + len;
  }
  return 3;
}

/**
 * Decodes a PNG or JPEG file (chosen by its magic bytes) to RGB; alpha is dropped.
 *
 * @param bytes the file's bytes
 * @param name the file's name for error messages (a path, or `archive.tar.gz:train/cat/1.jpg`)
 * @throws PatchcertError DATA_FORMAT when the bytes are neither PNG nor JPEG or do not decode
 */
export function decodeImage(bytes: Uint8Array, name: string): DecodedImage {
  const fn = 'decodeImage';
  if (isPng(bytes)) {
    let png: pngjs.PNGWithMetadata;
    try {
      png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (e) {
      throw formatError(fn, `image '${name}'`, 'a valid PNG file', `one that fails to decode (${(e as Error).message})`, e);
    }
    const n = png.width * png.height;
    const rgb = new Uint8Array(n * 3);
    const d = png.data;
    for (let p = 0; p < n; p++) {
      rgb[3 * p] = d[4 * p]!;
      rgb[3 * p + 1] = d[4 * p + 1]!;
      rgb[3 * p + 2] = d[4 * p + 2]!;
    }
    return { width: png.width, height: png.height, gray: !png.color, rgb };
  }
  if (isJpeg(bytes)) {
    try {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false, maxMemoryUsageInMB: 256 });
      return { width: img.width, height: img.height, gray: jpegComponents(bytes) === 1, rgb: img.data };
    } catch (e) {
      throw formatError(fn, `image '${name}'`, 'a valid JPEG file', `one that fails to decode (${(e as Error).message})`, e);
    }
  }
  const head = Array.from(bytes.subarray(0, 4), (v) => v.toString(16).padStart(2, '0')).join(' ');
  throw formatError(fn, `image '${name}'`, 'a PNG or JPEG file', `bytes starting ${head || '(empty file)'}`);
}
