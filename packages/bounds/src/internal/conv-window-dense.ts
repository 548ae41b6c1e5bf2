import { tf } from '@patchcert/backend';
import type { CenterRadius } from '../interval.js';
import { gatherRows, gatherSources } from './host-gather.js';

/** Where the rows' changed windows sit in the map at the flatten. */
export interface FlatWindows {
  /** Rows per image (rows are image-major: row `b·perImage + l`). */
  perImage: number;
  /** Window top-left cell of every row, in the `[fh, fw]` map. */
  aR: Int32Array;
  aC: Int32Array;
  wH: number;
  wW: number;
  /** The map at the flatten, `[fh, fw, fc]`. */
  fh: number;
  fw: number;
  fc: number;
}

/**
 * Indices `0 … count−1` grouped by window start (key `aR·fw + aC`, the cell's index in a map of
 * width `fw`), each group in index order, groups in order of first appearance.
 */
export function groupByWindowStart(aR: Int32Array, aC: Int32Array, fw: number, count: number): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const key = aR[i]! * fw + aC[i]!;
    const g = groups.get(key);
    if (g) g.push(i);
    else groups.set(key, [i]);
  }
  return groups;
}

/**
 * The first dense layer after the flatten for rows that differ from the clean map only in a
 * window, on the gradient tape: its center is the clean output plus (window − clean window)·W
 * over the window's weight rows only, and its radius the window's radius·|W| (the clean cells
 * have radius 0). Rows are grouped by window start, so each group is one plain matmul with a
 * `[wH·wW·fc, units]` slice of the kernel instead of the full `[fh·fw·fc, units]` product.
 *
 * @param win - the rows' windows after the last conv block, `[rows, wH, wW, fc]`.
 * @param clean - the clean map at the flatten, `[batch · fh · fw, fc]`.
 * @returns the layer's center and radius `[rows, units]`, rows in the input order.
 */
export function windowDense(win: CenterRadius, clean: tf.Tensor2D, geo: FlatWindows, kernel: tf.Tensor2D, bias: tf.Tensor): CenterRadius {
  const { perImage: k, aR, aC, wH, wW, fh, fw, fc } = geo;
  const n = aR.length;
  const batch = n / k;
  const units = kernel.shape[1];
  const cells = wH * wW;
  const width = cells * fc;
  // Group order: rows with the same window start next to each other.
  const groups = groupByWindowStart(aR, aC, fw, n);
  const winIdx = new Int32Array(n * cells);
  const cleanIdx = new Int32Array(n * cells);
  const back = new Int32Array(n); // row → its position in group order
  let p = 0;
  for (const rows of groups.values()) {
    for (const row of rows) {
      const b = Math.floor(row / k);
      back[row] = p;
      for (let i = 0, q = p * cells; i < wH; i++) {
        for (let j = 0; j < wW; j++, q++) {
          winIdx[q] = row * cells + i * wW + j;
          cleanIdx[q] = (b * fh + aR[row]! + i) * fw + aC[row]! + j;
        }
      }
      p++;
    }
  }
  return tf.tidy(() => {
    const dMu = tf.reshape(tf.sub(gatherRows(tf.reshape(win.mu, [-1, fc]), winIdx), gatherRows(clean, cleanIdx)), [n, width]);
    const dR = tf.reshape(gatherRows(tf.reshape(win.r, [-1, fc]), winIdx), [n, width]);
    const kernel4 = tf.reshape(kernel, [fh, fw, fc, units]);
    const mus: tf.Tensor[] = [];
    const rs: tf.Tensor[] = [];
    let s0 = 0;
    for (const [key, rows] of groups) {
      const m = rows.length;
      const w = tf.reshape(tf.slice(kernel4, [Math.floor(key / fw), key % fw, 0, 0], [wH, wW, fc, units]), [width, units]) as tf.Tensor2D;
      const one = groups.size === 1;
      mus.push(tf.matMul((one ? dMu : tf.slice(dMu, [s0, 0], [m, width])) as tf.Tensor2D, w));
      rs.push(tf.matMul((one ? dR : tf.slice(dR, [s0, 0], [m, width])) as tf.Tensor2D, tf.abs(w)));
      s0 += m;
    }
    // Back to image-major rows straight from the groups' outputs (no concat, whose gradient is a
    // split), then the clean output of each row's image, broadcast over its rows.
    const cleanOut = tf.add(tf.matMul(tf.reshape(clean, [batch, fh * fw * fc]), kernel), bias);
    const mu = tf.add(tf.reshape(gatherSources(mus, back), [batch, k, units]), tf.reshape(cleanOut, [batch, 1, units]));
    return { mu: tf.reshape(mu, [n, units]), r: gatherSources(rs, back) };
  });
}
