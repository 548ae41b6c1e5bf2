import { formatError } from './internal/fail.js';
import { readMaybeGzip } from './internal/files.js';

/** A decoded IDX array of unsigned bytes. */
export interface IdxArray {
  /** Sizes of the dimensions, outermost first (e.g. `[60000, 28, 28]`). */
  dims: number[];
  /** The values in row-major order, `dims` multiplied together. */
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;

/**
 * Parses an IDX file (the MNIST container format: two zero bytes, a type byte, a dimension
 * count, big-endian uint32 sizes, then the values). Only unsigned-byte data (type 0x08) occurs
 * in image datasets and only that is accepted.
 *
 * @param bytes the whole (already gunzipped) file
 * @param file the file name, used in error messages
 * @param expectedDims how many dimensions the file must have (3 for images, 1 for labels)
 * @returns the sizes and a view of the values (no copy)
 * @throws PatchcertError DATA_FORMAT on a wrong magic number, a dimension count other than
 * `expectedDims`, or a length that does not match the header (truncated or padded file)
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedDims?: number): IdxArray {
  const fn = 'parseIdx';
  if (bytes.length < 4) {
    throw formatError(fn, `IDX file '${file}'`, 'at least 4 bytes long', `${bytes.length} bytes`);
  }
  const magic = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const nd = bytes[3]!;
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== IDX_UBYTE || (expectedDims !== undefined && nd !== expectedDims)) {
    const want = expectedDims === undefined ? '0x000008NN (unsigned bytes)' : `0x0000080${expectedDims}`;
    throw formatError(fn, `the magic number of IDX file '${file}'`, want, `0x${magic.toString(16).padStart(8, '0')}`);
  }
  const headerLen = 4 + 4 * nd;
  if (bytes.length < headerLen) {
    throw formatError(fn, `IDX file '${file}'`, `at least ${headerLen} bytes long (header of ${nd} dimensions)`, `${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let total = 1;
  for (let i = 0; i < nd; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    total *= d;
  }
  const have = bytes.length - headerLen;
  if (have !== total) {
    throw formatError(
      fn,
      `the data of IDX file '${file}'`,
      `${total} bytes (dims ${dims.join('x')})`,
      `${have} bytes (${have < total ? 'truncated' : 'trailing bytes'})`,
    );
  }
  return { dims, data: bytes.subarray(headerLen) };
}

/**
 * Reads an IDX file from disk, plain or gzipped (name ending in `.gz`).
 *
 * @throws PatchcertError FILE_NOT_FOUND when the file is missing, DATA_FORMAT when it is corrupt
 */
export function readIdxFile(path: string, expectedDims?: number): IdxArray {
  return parseIdx(readMaybeGzip('readIdxFile', path, 'IDX file'), path, expectedDims);
}
