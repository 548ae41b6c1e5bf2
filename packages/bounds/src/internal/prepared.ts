import type { tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import type { PixelBoxes } from '../input-box.js';

/** What every margin plan starts from: one batch of images, boxed and labelled. */
export interface PreparedBatch {
  model: SequentialModel;
  /** Pixel images `[batch, h, w, c]`. */
  pixels: tf.Tensor4D;
  boxes: PixelBoxes;
  /** One-hot labels `[batch, classes]`. */
  onehot: tf.Tensor2D;
  eps: number;
  /**
   * Host copy of the labels, set only when nothing is differentiated (certify): the elided
   * layer then multiplies each run of equal labels by its own 10-column |W_y − W| instead of
   * all 100 (y, j) columns.
   */
  hostLabels?: Int32Array;
}

/**
 * Patch origins for the rows of one pass, image-major: row `b·perImage + l` is image b with the
 * patch's top-left corner at `(rows[·], cols[·])`.
 */
export interface RowOrigins {
  perImage: number;
  rows: Int32Array;
  cols: Int32Array;
  /** True when every image uses the same origins (then only the first `perImage` matter). */
  shared?: boolean;
  /**
   * The image of every row, for rows that are not image-major with `perImage` each (per-image
   * location lists of different lengths: certify's pruned round). `perImage` is then the row
   * count, and the margins are `[1, rows, classes]`. Only plans with `rowImages` take it.
   */
  images?: Int32Array;
}

/** Computes margins for passes of rows over one prepared batch. */
export interface MarginPlan {
  /** Margin lower bounds `[batch, perImage, classes]` (0 in the y slot). */
  margins(rows: RowOrigins): tf.Tensor3D;
  /** Frees the tensors the plan precomputed. */
  dispose(): void;
  /** Floats per row of the largest intermediate, for choosing chunk sizes. */
  readonly rowCost: number;
  /** True when `margins` takes {@link RowOrigins.images}. */
  readonly rowImages?: boolean;
}
