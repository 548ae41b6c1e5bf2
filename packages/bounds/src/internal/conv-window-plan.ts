import { tf, denseTailMargins } from '@patchcert/backend';
import type { Conv2DSpec } from '@patchcert/models';
import type { PatchThreat } from '../patch-threat.js';
import { propagateCenterRadius } from '../propagate-interval.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import { intervalRelu } from '../interval-relu.js';
import type { MarginPlan, PreparedBatch, RowOrigins } from './prepared.js';
import { cleanConvPass } from './clean-conv-pass.js';
import { copyRuns, emptyRuns, gatherRows, gatherTwo, pushRun } from './host-gather.js';
import { groupByWindowStart, windowDense } from './conv-window-dense.js';

/** Geometry of one conv layer of the window stage (sizes are the same for every location). */
interface ConvStep {
  kind: 'conv';
  layer: number;
  spec: Conv2DSpec;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  /** Size of the changed window entering the layer. */
  winH: number;
  winW: number;
  /** Size of the output window: it covers every output whose receptive field meets the input window. */
  oH: number;
  oW: number;
  /** Input region (padded coordinates) the output window reads: (o−1)·s + k. */
  regH: number;
  regW: number;
}

type Step = ConvStep | { kind: 'relu'; layer: number };

/** First output index whose receptive field can meet input index `a`, clamped so the window fits. */
function windowStart(a: number, pad: number, k: number, s: number, out: number, size: number): number {
  const first = Math.ceil((a + pad - k + 1) / s);
  return Math.min(Math.max(first, 0), out - size);
}

/**
 * Fast exact plan for models that start with convolutions (every CNN of the paper).
 *
 * A patch changes only its own pixels; after a conv layer the outputs that differ from the
 * clean activations are those whose receptive field meets the changed window, a window that
 * grows by the kernel and shrinks by the stride layer after layer. Each row therefore carries
 * only a small window of (center, radius) per layer, placed at a per-location offset; outside
 * it the activations equal the clean ones (radius 0), computed once per image.
 *
 * To apply a conv layer we assemble, for each row, the exact input region its output window
 * reads (clean padded activations, overwritten by the row's window where they overlap) as runs
 * of consecutive cells copied on the backend's memory (copyRuns / PcGatherRuns), and run a
 * 'valid' conv with the layer's stride: the result equals the full conv at those outputs. ReLU
 * acts on the window alone. The first dense layer after the flatten (when more layers follow)
 * is the clean output plus (window − clean window)·W over the window's weight rows only, with
 * radius window radius·|W|, one matmul per group of rows whose windows start at the same cell;
 * without such a layer the full map is assembled and the dense rules run as usual.
 *
 * With `differentiable` the copies carry a host scatter-add as their gradient (gatherTwo,
 * gatherRows, windowDense), so gradients flow to the weights; otherwise (certification) index
 * tables are built once per location (shared origins) or per distinct origin, and margins are
 * elided per group.
 */
export function convWindowPlan(prep: PreparedBatch, threat: PatchThreat, differentiable: boolean): MarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const flatIdx = model.layers.findIndex((l) => l.type === 'flatten');
  const last = model.layers.length - 1;

  // Window geometry, layer by layer.
  const steps: Step[] = [];
  let shape: readonly number[] = [h, w, c];
  let winH = threat.height;
  let winW = threat.width;
  for (let i = 0; i < flatIdx; i++) {
    const layer = model.layers[i]!;
    if (layer.type === 'relu') {
      steps.push({ kind: 'relu', layer: i });
    } else if (layer.type === 'conv2d') {
      const [kh, kw] = layer.kernelSize;
      const [sh, sw] = layer.strides;
      const out = model.shapes[i]!;
      const oH = Math.min(out[0]!, Math.floor((winH + kh - 2) / sh) + 1);
      const oW = Math.min(out[1]!, Math.floor((winW + kw - 2) / sw) + 1);
      steps.push({
        kind: 'conv', layer: i, spec: layer, inH: shape[0]!, inW: shape[1]!, inC: shape[2]!, outH: out[0]!, outW: out[1]!,
        winH, winW, oH, oW, regH: (oH - 1) * sh + kh, regW: (oW - 1) * sw + kw,
      });
      winH = oH;
      winW = oW;
    }
    shape = model.shapes[i]!;
  }
  const [fh, fw, fc] = shape as [number, number, number];

  // Clean activations once per image: padded inputs of every conv, and the map at the flatten.
  const pre = tf.tidy(() => {
    const { padded, acts } = cleanConvPass(model, boxes.clean, flatIdx);
    const input = {
      clean: tf.reshape(boxes.clean, [-1, c]) as tf.Tensor2D,
      mu: tf.reshape(boxes.box.mu, [-1, c]) as tf.Tensor2D,
      r: tf.reshape(boxes.box.r, [-1, c]) as tf.Tensor2D,
    };
    const flat = flatIdx > 0 ? acts[flatIdx - 1]! : (tf.reshape(boxes.clean, [-1, fc]) as tf.Tensor2D);
    return { padded, flat, input };
  });
  // The first dense layer after the flatten sees the clean map plus the row's window, so its
  // output is the clean output plus the window's term: rows whose windows start at the same
  // cell share the window's weight rows (few distinct starts: the window nearly fills the map).
  const fc1 = flatIdx + 1;
  const windowFc1 = model.layers[fc1]?.type === 'dense' && fc1 < last;
  const fc1Pre = !differentiable && windowFc1
    ? {
        // The kernel's host copy is taken outside the tidy: tidy walks every element of a typed array it returns.
        cleanOut: tf.tidy(() => {
          const wts = model.weights[fc1]!;
          return tf.reshape(tf.add(tf.matMul(tf.reshape(pre.flat, [batch, fh * fw * fc]), wts.kernel as tf.Tensor2D), wts.bias), [batch, 1, -1]);
        }),
        kernel: model.weights[fc1]!.kernel.dataSync() as Float32Array,
        units: model.weights[fc1]!.kernel.shape[1]!,
      }
    : null;
  // That layer and the ones after it, when they are ReLU, dense, ReLU, dense (the 4-layer
  // CNNs), run as one kernel.
  const tailTypes = model.layers.slice(fc1 + 1).map((l) => l.type).join(',');
  const denseTail = fc1Pre && tailTypes === 'relu,dense,relu,dense'
    ? {
        kernel: model.weights[fc1 + 2]!.kernel as tf.Tensor2D,
        absKernel: tf.abs(model.weights[fc1 + 2]!.kernel) as tf.Tensor2D,
        bias: model.weights[fc1 + 2]!.bias as tf.Tensor1D,
        lastKernel: model.weights[last]!.kernel as tf.Tensor2D,
        lastBias: model.weights[last]!.bias as tf.Tensor1D,
      }
    : null;

  /** Host copies of the clean pixels and their boxes (data only: no gradient reaches them). */
  let pixels: { clean: Float32Array; mu: Float32Array; r: Float32Array } | null = null;
  /**
   * Every row's input window (the stencil's bounding box at its origin): the box on stencil
   * pixels, the clean pixel (radius 0) elsewhere, as `[rows, height, width, c]`.
   */
  const inputWindows = (origins: RowOrigins): { mu: tf.Tensor; r: tf.Tensor } => {
    const px = (pixels ??= { clean: pre.input.clean.dataSync() as Float32Array, mu: pre.input.mu.dataSync() as Float32Array, r: pre.input.r.dataSync() as Float32Array });
    const k = origins.perImage;
    const n = origins.images ? k : batch * k;
    const wH = threat.height;
    const wW = threat.width;
    const wm = new Float32Array(n * wH * wW * c);
    const wr = new Float32Array(n * wH * wW * c);
    for (let row = 0, q = 0; row < n; row++) {
      const b = origins.images ? origins.images[row]! : Math.floor(row / k);
      for (let i = 0; i < wH; i++) {
        for (let j = 0; j < wW; j++) {
          const on = threat.stencil[i * wW + j] === 1;
          const src = (b * h * w + (origins.rows[row]! + i) * w + origins.cols[row]! + j) * c;
          for (let c2 = 0; c2 < c; c2++, q++) {
            wm[q] = on ? px.mu[src + c2]! : px.clean[src + c2]!;
            wr[q] = on ? px.r[src + c2]! : 0;
          }
        }
      }
    }
    return { mu: tf.tensor4d(wm, [n, wH, wW, c]), r: tf.tensor4d(wr, [n, wH, wW, c]) };
  };

  /**
   * The rest of a certification pass from the last window on: the first dense layer per group of
   * locations with the same window start (window term only), then plain rules and elision.
   * Returns margins `[batch, k, classes]` in the usual image-major order.
   */
  const windowedDense = (
    rows: RowLayout, aR: Int32Array, aC: Int32Array, wH: number, wW: number, mu: tf.Tensor, r: tf.Tensor,
    f1: NonNullable<typeof fc1Pre>,
  ): tf.Tensor3D => {
    const { n, shared } = rows;
    const cellsWin = wH * wW;
    const width = cellsWin * fc;
    const units = f1.units;
    // Groups of index tables (locations) by window start, each with the rows that use them.
    const groups = groupByWindowStart(aR, aC, fw, aR.length);
    const y = prep.hostLabels!;
    const rowLabels = new Int32Array(n);
    const rowOf = new Int32Array(n); // group-order position → image-major row
    const mus: tf.Tensor[] = [];
    const rs: tf.Tensor[] = [];
    const margins: tf.Tensor[] = [];
    let pos = 0;
    for (const [key, locs] of groups) {
      const gr = Math.floor(key / fw);
      const gc = key % fw;
      const groupRows = rows.rowsOf(locs);
      const m = groupRows.length;
      // Weight rows of the window's cells, [width, units].
      const wg = new Float32Array(width * units);
      for (let i = 0, q = 0; i < wH; i++) {
        for (let j = 0; j < wW; j++) {
          const cell = (gr + i) * fw + gc + j;
          for (let c2 = 0; c2 < fc; c2++, q++) wg.set(f1.kernel.subarray((cell * fc + c2) * units, (cell * fc + c2 + 1) * units), q * units);
        }
      }
      // The group's rows (b-major) as runs: each row's window is one run of `width` floats, and
      // its clean window wH runs of wW cells of the clean map; per row, its image's clean output.
      const win = emptyRuns(m);
      const cl = emptyRuns(m * wH);
      const out = emptyRuns(denseTail ? 0 : m);
      for (let q = 0; q < m; q++) {
        const row = groupRows[q]!;
        const img = rows.imageOf(row);
        pushRun(win, 0, row * width, width, 0);
        for (let i = 0; i < wH; i++) pushRun(cl, 0, ((img * fh + gr + i) * fw + gc) * fc, wW * fc, 0);
        if (!denseTail) pushRun(out, 0, img * units, units, 0);
        rowLabels[pos] = y[img]!;
        rowOf[pos++] = row;
      }
      const dMu = tf.reshape(tf.sub(copyRuns([mu], win, m * width), copyRuns([pre.flat], cl, m * width)), [m, width]) as tf.Tensor2D;
      const dR = tf.reshape(copyRuns([r], win, m * width), [m, width]) as tf.Tensor2D;
      const w = tf.tensor2d(wg, [width, units]);
      if (denseTail) {
        // A ReLU, dense, ReLU, dense tail (the 4-layer CNNs): one fused kernel from the window's
        // change to the margins, multiplying only the inputs that change and the units active
        // over their box.
        const baseRows = Int32Array.from(groupRows, (row) => rows.imageOf(row));
        margins.push(denseTailMargins(
          dMu, dR, w, tf.abs(w), tf.reshape(f1.cleanOut, [batch, units]), tf.tensor1d(baseRows, 'int32'),
          denseTail.kernel, denseTail.absKernel, denseTail.bias, denseTail.lastKernel, denseTail.lastBias, tf.tensor1d(rowLabels.subarray(pos - m, pos), 'int32'),
        ));
        continue;
      }
      const cleanOut = shared ? f1.cleanOut : tf.reshape(copyRuns([f1.cleanOut], out, m * units), [m, units]);
      const term = tf.matMul(dMu, w);
      mus.push(shared ? tf.reshape(tf.add(tf.reshape(term, [batch, locs.length, units]), cleanOut), [m, units]) : tf.add(term, cleanOut));
      rs.push(tf.matMul(dR, tf.abs(w)));
    }
    // The fused tail's margins, or else the plain rules and elision.
    const m3 = denseTail
      ? (margins.length === 1 ? margins[0]! : tf.concat(margins, 0))
      : (() => {
          const box1 = { mu: mus.length === 1 ? mus[0]! : tf.concat(mus, 0), r: rs.length === 1 ? rs[0]! : tf.concat(rs, 0) };
          const box = propagateCenterRadius(model, box1, fc1 + 1, last);
          return elidedMarginsCenterRadius(
            model, { mu: tf.reshape(box.mu, [n, 1, -1]), r: tf.reshape(box.r, [n, 1, -1]) },
            tf.cast(tf.oneHot(tf.tensor1d(rowLabels, 'int32'), onehot.shape[1]), 'float32') as tf.Tensor2D, rowLabels,
          );
        })();
    const data = m3.dataSync();
    const classes = onehot.shape[1];
    const out = new Float32Array(n * classes);
    for (let p2 = 0; p2 < n; p2++) out.set(data.subarray(p2 * classes, (p2 + 1) * classes), rowOf[p2]! * classes);
    return tf.tensor3d(out, rows.shape(classes));
  };

  /**
   * Certification pass: index tables are built once per location when every image takes the
   * same origins, else once per distinct origin (per-image location lists: certify's pruned rounds), and
   * regions are copied as runs (copyRuns).
   */
  const hostMargins = (origins: RowOrigins): tf.Tensor3D =>
    tf.tidy(() => {
      const rows = rowLayout(origins, batch);
      const { n } = rows;
      const tables = rows.tR.length;
      let aR = rows.tR;
      let aC = rows.tC;
      let wH = threat.height;
      let wW = threat.width;
      let win = wH * wW;
      let { mu, r } = inputWindows(origins);

      // Copies each row's region: table entry t ≥ 0 reads clean cell t of the row's image,
      // t < 0 reads cell −1−t of the row's window. The table is first merged into runs of
      // cells that are contiguous in their source (per location), then copied for every row on
      // the backend's memory (copyRuns). The radius region is the window's radius in zeros.
      const assemble = (tab: Int32Array, size: number, ch: number, clean: tf.Tensor, cleanCells: number): [tf.Tensor, tf.Tensor] => {
        const segs = mergeRuns(tab, tables, size);
        let cap = 0;
        for (let row = 0; row < n; row++) cap += segs.start[rows.tableOf(row) + 1]! - segs.start[rows.tableOf(row)]!;
        const rm = emptyRuns(cap);
        const rr = emptyRuns(cap);
        let endR = 0;
        for (let row = 0; row < n; row++) {
          const cleanBase = rows.imageOf(row) * cleanCells;
          const t = rows.tableOf(row);
          const winBase = row * win;
          for (let q = segs.start[t]!; q < segs.start[t + 1]!; q++) {
            const dst = (row * size + segs.dst[q]!) * ch;
            const len = segs.len[q]! * ch;
            const src = segs.src[q]!;
            if (src >= 0) {
              pushRun(rm, 0, (cleanBase + src) * ch, len, 0);
            } else {
              pushRun(rm, 1, (winBase - 1 - src) * ch, len, 0);
              pushRun(rr, 0, (winBase - 1 - src) * ch, len, dst - endR);
              endR = dst + len;
            }
          }
        }
        const total = n * size * ch;
        return [copyRuns([clean, mu], rm, total), copyRuns([r], rr, total)];
      };

      for (const step of steps) {
        if (step.kind === 'relu') {
          ({ mu, r } = intervalRelu({ mu, r }));
          continue;
        }
        const { spec, inH, inW, inC, outH, outW, oH, oW, regH, regW } = step;
        const [kh, kw] = spec.kernelSize;
        const [sh, sw] = spec.strides;
        const [pt, pb, pl, pr] = spec.padding;
        const hp = inH + pt + pb;
        const wp = inW + pl + pr;
        const size = regH * regW;
        const tab = new Int32Array(tables * size);
        const oR = new Int32Array(tables);
        const oC = new Int32Array(tables);
        for (let l = 0, q = 0; l < tables; l++) {
          const or0 = windowStart(aR[l]!, pt, kh, sh, outH, oH);
          const oc0 = windowStart(aC[l]!, pl, kw, sw, outW, oW);
          oR[l] = or0;
          oC[l] = oc0;
          for (let i = 0; i < regH; i++) {
            const prow = or0 * sh + i;
            const ur = prow - pt - aR[l]!;
            const inRow = ur >= 0 && ur < wH;
            for (let j = 0; j < regW; j++, q++) {
              const pcol = oc0 * sw + j;
              const uc = pcol - pl - aC[l]!;
              tab[q] = inRow && uc >= 0 && uc < wW ? -1 - (ur * wW + uc) : prow * wp + pcol;
            }
          }
        }
        const [cm, cr] = assemble(tab, size, inC, pre.padded[step.layer]!, hp * wp);
        const weights = model.weights[step.layer]!;
        const kernel = weights.kernel as tf.Tensor4D;
        mu = tf.fused.conv2d({ x: tf.reshape(cm, [n, regH, regW, inC]) as tf.Tensor4D, filter: kernel, strides: [sh, sw], pad: 'valid', bias: weights.bias });
        r = tf.conv2d(tf.reshape(cr, [n, regH, regW, inC]) as tf.Tensor4D, tf.abs(kernel), [sh, sw], 'valid');
        aR = oR;
        aC = oC;
        wH = oH;
        wW = oW;
        win = wH * wW;
      }

      if (fc1Pre) return windowedDense(rows, aR, aC, wH, wW, mu, r, fc1Pre);

      const cells = fh * fw;
      const tab = new Int32Array(tables * cells);
      for (let l = 0, q = 0; l < tables; l++) {
        for (let i = 0; i < fh; i++) {
          const ur = i - aR[l]!;
          const inRow = ur >= 0 && ur < wH;
          for (let j = 0; j < fw; j++, q++) {
            const uc = j - aC[l]!;
            tab[q] = inRow && uc >= 0 && uc < wW ? -1 - (ur * wW + uc) : i * fw + j;
          }
        }
      }
      const [fm, fr] = assemble(tab, cells, fc, pre.flat, cells);
      const box = propagateCenterRadius(model, { mu: tf.reshape(fm, [n, cells * fc]), r: tf.reshape(fr, [n, cells * fc]) }, flatIdx + 1, last);
      if (!origins.images) return elidedMarginsCenterRadius(model, box, onehot, prep.hostLabels);
      // Rows of any images: each row is its own image of the elision.
      const y = Int32Array.from(origins.images, (b) => prep.hostLabels![b]!);
      const one = tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), onehot.shape[1]), 'float32') as tf.Tensor2D;
      return tf.reshape(elidedMarginsCenterRadius(model, { mu: tf.reshape(box.mu, [n, 1, -1]), r: tf.reshape(box.r, [n, 1, -1]) }, one, y), rows.shape(onehot.shape[1])) as tf.Tensor3D;
    });

  const rowCost = Math.max(
    fh * fw * fc,
    ...steps.map((s) => (s.kind === 'conv' ? Math.max(s.regH * s.regW * s.inC, s.oH * s.oW * s.spec.filters) : 0)),
    ...model.shapes.slice(flatIdx + 1).map((s) => s.reduce((a, b) => a * b, 1)),
  );

  return {
    rowCost,
    rowImages: !differentiable,
    margins(origins: RowOrigins): tf.Tensor3D {
      if (!differentiable) return hostMargins(origins);
      return tf.tidy(() => {
        const k = origins.perImage;
        const n = batch * k;
        let aR = Int32Array.from(origins.rows);
        let aC = Int32Array.from(origins.cols);
        let wH = threat.height;
        let wW = threat.width;
        let { mu, r } = inputWindows(origins);
        for (const step of steps) {
          if (step.kind === 'relu') {
            ({ mu, r } = intervalRelu({ mu, r }));
            continue;
          }
          const { spec, inH, inW, inC, outH, outW, oH, oW, regH, regW } = step;
          const [kh, kw] = spec.kernelSize;
          const [sh, sw] = spec.strides;
          const [pt, pb, pl, pr] = spec.padding;
          const hp = inH + pt + pb;
          const wp = inW + pl + pr;
          const nClean = batch * hp * wp;
          const idxMu = new Int32Array(n * regH * regW);
          const idxR = new Int32Array(n * regH * regW);
          const oR = new Int32Array(n);
          const oC = new Int32Array(n);
          for (let row = 0, q = 0; row < n; row++) {
            const ar = aR[row]!;
            const ac = aC[row]!;
            const or0 = windowStart(ar, pt, kh, sh, outH, oH);
            const oc0 = windowStart(ac, pl, kw, sw, outW, oW);
            oR[row] = or0;
            oC[row] = oc0;
            const base = Math.floor(row / k) * hp * wp;
            for (let i = 0; i < regH; i++) {
              const prow = or0 * sh + i;
              const ur = prow - pt - ar;
              const inRow = ur >= 0 && ur < wH;
              for (let j = 0; j < regW; j++, q++) {
                const pcol = oc0 * sw + j;
                const uc = pcol - pl - ac;
                if (inRow && uc >= 0 && uc < wW) {
                  const wi = (row * wH + ur) * wW + uc;
                  idxMu[q] = nClean + wi;
                  idxR[q] = wi;
                } else {
                  idxMu[q] = base + prow * wp + pcol;
                  idxR[q] = -1;
                }
              }
            }
          }
          const compMu = tf.reshape(gatherTwo(pre.padded[step.layer]!, tf.reshape(mu, [-1, inC]), idxMu), [n, regH, regW, inC]) as tf.Tensor4D;
          const compR = tf.reshape(gatherRows(tf.reshape(r, [-1, inC]), idxR), [n, regH, regW, inC]) as tf.Tensor4D;
          const weights = model.weights[step.layer]!;
          const kernel = weights.kernel as tf.Tensor4D;
          mu = tf.add(tf.conv2d(compMu, kernel, [sh, sw], 'valid'), weights.bias);
          r = tf.conv2d(compR, tf.abs(kernel), [sh, sw], 'valid');
          aR = oR;
          aC = oC;
          wH = oH;
          wW = oW;
        }

        let box: { mu: tf.Tensor; r: tf.Tensor };
        if (windowFc1) {
          // The first dense layer from the window's change only (see windowDense).
          const wts = model.weights[fc1]!;
          const geo = { perImage: k, aR, aC, wH, wW, fh, fw, fc };
          box = propagateCenterRadius(model, windowDense({ mu, r }, pre.flat, geo, wts.kernel as tf.Tensor2D, wts.bias), fc1 + 1, last);
        } else {
          // Full map at the flatten: clean activations with each row's window written in.
          const cells = fh * fw;
          const nClean = batch * cells;
          const idxMu = new Int32Array(n * cells);
          const idxR = new Int32Array(n * cells);
          for (let row = 0, q = 0; row < n; row++) {
            const base = Math.floor(row / k) * cells;
            const ar = aR[row]!;
            const ac = aC[row]!;
            for (let i = 0; i < fh; i++) {
              const ur = i - ar;
              const inRow = ur >= 0 && ur < wH;
              for (let j = 0; j < fw; j++, q++) {
                const uc = j - ac;
                if (inRow && uc >= 0 && uc < wW) {
                  const wi = (row * wH + ur) * wW + uc;
                  idxMu[q] = nClean + wi;
                  idxR[q] = wi;
                } else {
                  idxMu[q] = base + i * fw + j;
                  idxR[q] = -1;
                }
              }
            }
          }
          const flatMu = tf.reshape(gatherTwo(pre.flat, tf.reshape(mu, [-1, fc]), idxMu), [n, cells * fc]);
          const flatR = tf.reshape(gatherRows(tf.reshape(r, [-1, fc]), idxR), [n, cells * fc]);
          box = propagateCenterRadius(model, { mu: flatMu, r: flatR }, flatIdx + 1, last);
        }
        return elidedMarginsCenterRadius(model, { mu: tf.reshape(box.mu, [batch, k, -1]), r: tf.reshape(box.r, [batch, k, -1]) }, onehot, prep.hostLabels);
      });
    },
    dispose() {
      tf.dispose(pre);
      if (fc1Pre) fc1Pre.cleanOut.dispose();
      if (denseTail) denseTail.absKernel.dispose();
    },
  };
}

/** How a certification pass's rows map to images and index tables. */
interface RowLayout {
  /** Rows. */
  n: number;
  /** Every image takes the same `k` origins, rows image-major (row b·k + l: table l). */
  shared: boolean;
  /** Origins of the index tables: one per location (shared), else one per distinct origin. */
  tR: Int32Array;
  tC: Int32Array;
  tableOf(row: number): number;
  /** The rows that use tables `tabs`, by image (shared: b·k + l for each image b, then l in `tabs`). */
  rowsOf(tabs: readonly number[]): Int32Array;
  imageOf(row: number): number;
  /** Shape of the margins: `[batch, k, classes]`, or `[1, rows, classes]` with per-row images. */
  shape(classes: number): [number, number, number];
}

function rowLayout(origins: RowOrigins, batch: number): RowLayout {
  const k = origins.perImage;
  const images = origins.images;
  const n = images ? k : batch * k;
  const imageOf = images ? (row: number) => images[row]! : (row: number) => Math.floor(row / k);
  const shape = (c: number): [number, number, number] => (images ? [1, k, c] : [batch, k, c]);
  if (origins.shared && !images) {
    const rowsOf = (tabs: readonly number[]) => {
      const out = new Int32Array(batch * tabs.length);
      for (let b = 0, q = 0; b < batch; b++) for (const t of tabs) out[q++] = b * k + t;
      return out;
    };
    return { n, shared: true, tR: origins.rows.slice(0, k), tC: origins.cols.slice(0, k), tableOf: (row) => row % k, rowsOf, imageOf, shape };
  }
  // Rows of their own origins (certify's pruned rounds): one table per distinct origin, since
  // the tables depend on the origin only (building them per row cost ~10 % of a pruned run).
  const ids = new Map<number, number>();
  const table = new Int32Array(n);
  const tR: number[] = [];
  const tC: number[] = [];
  for (let row = 0; row < n; row++) {
    const key = origins.rows[row]! * 65536 + origins.cols[row]!;
    let t = ids.get(key);
    if (t === undefined) {
      t = tR.length;
      ids.set(key, t);
      tR.push(origins.rows[row]!);
      tC.push(origins.cols[row]!);
    }
    table[row] = t;
  }
  // Rows by table (counting sort).
  const start = new Int32Array(tR.length + 1);
  for (let row = 0; row < n; row++) start[table[row]! + 1]!++;
  for (let t = 0; t < tR.length; t++) start[t + 1]! += start[t]!;
  const list = new Int32Array(n);
  const next = start.slice(0, tR.length);
  for (let row = 0; row < n; row++) list[next[table[row]!]!++] = row;
  const rowsOf = (tabs: readonly number[]) => {
    let m = 0;
    for (const t of tabs) m += start[t + 1]! - start[t]!;
    const out = new Int32Array(m);
    let q = 0;
    for (const t of tabs) {
      out.set(list.subarray(start[t]!, start[t + 1]!), q);
      q += start[t + 1]! - start[t]!;
    }
    // In row order, i.e. by image: the elided layer runs one product per run of equal labels
    // (label-sorted batches), and table order interleaved them (Slice ~4 % of a pruned run).
    return out.sort();
  };
  return { n, shared: false, tR: Int32Array.from(tR), tC: Int32Array.from(tC), tableOf: (row) => table[row]!, rowsOf, imageOf, shape };
}

/**
 * Merges a per-location cell table (`size` entries per location; t ≥ 0 a clean cell, t < 0
 * window cell −1−t) into runs whose sources are consecutive: `dst` (cell in the region), `src`
 * (first source entry, same encoding) and `len`; `start[l]..start[l+1]` are location l's runs.
 */
function mergeRuns(tab: Int32Array, k: number, size: number): { start: Int32Array; dst: Int32Array; src: Int32Array; len: Int32Array } {
  const dst: number[] = [];
  const src: number[] = [];
  const len: number[] = [];
  const start = new Int32Array(k + 1);
  for (let l = 0; l < k; l++) {
    start[l] = dst.length;
    let curSrc = 0;
    let curLen = 0;
    let curDst = 0;
    for (let e = 0; e < size; e++) {
      const t = tab[l * size + e]!;
      // Consecutive sources: clean t follows t−1; window −1−u follows −1−(u−1), i.e. t = prev − 1.
      const next = curLen > 0 && (curSrc >= 0 ? t >= 0 && t === curSrc + curLen : t < 0 && t === curSrc - curLen);
      if (next) {
        curLen++;
      } else {
        if (curLen > 0) {
          dst.push(curDst);
          src.push(curSrc);
          len.push(curLen);
        }
        curDst = e;
        curSrc = t;
        curLen = 1;
      }
    }
    if (curLen > 0) {
      dst.push(curDst);
      src.push(curSrc);
      len.push(curLen);
    }
  }
  start[k] = dst.length;
  return { start, dst: Int32Array.from(dst), src: Int32Array.from(src), len: Int32Array.from(len) };
}
