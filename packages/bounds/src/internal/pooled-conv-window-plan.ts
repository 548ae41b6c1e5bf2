import { tf } from '@patchcert/backend';
import type { Conv2DSpec } from '@patchcert/models';
import type { PatchThreat } from '../patch-threat.js';
import type { CenterRadius } from '../interval.js';
import { intervalRelu } from '../interval-relu.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import { fromBounds, poolAfter, poolSpan, propagatePooled, reduceMembers, type PoolList } from './pool-rows.js';
import { bandRows, type PooledMarginPlan } from './pooled-naive-plan.js';
import type { PreparedBatch } from './prepared.js';
import { gatherTwo } from './host-gather.js';
import { cleanConvPass } from './clean-conv-pass.js';

/**
 * Rows of one stage: a grid `[bh, bw]` of rows per image (locations, or blocks after pooling),
 * each row differing from the clean activations only in a `wH × wW` window whose top-left cell
 * is `(aR[g], aC[g])` for grid cell g (the same for every image).
 */
interface WindowRows {
  bh: number;
  bw: number;
  wH: number;
  wW: number;
  aR: Int32Array;
  aC: Int32Array;
}

/** First output index whose receptive field can meet input index `a`, clamped so the window fits. */
function windowStart(a: number, pad: number, k: number, s: number, out: number, size: number): number {
  return Math.min(Math.max(Math.ceil((a + pad - k + 1) / s), 0), out - size);
}

/** Geometry of a conv step: output window size, the input region it reads, and new offsets. */
function convGeometry(st: WindowRows, spec: Conv2DSpec, outH: number, outW: number): { next: WindowRows; regH: number; regW: number } {
  const [kh, kw] = spec.kernelSize;
  const [sh, sw] = spec.strides;
  const oH = Math.min(outH, Math.floor((st.wH + kh - 2) / sh) + 1);
  const oW = Math.min(outW, Math.floor((st.wW + kw - 2) / sw) + 1);
  const g = st.bh * st.bw;
  const aR = new Int32Array(g);
  const aC = new Int32Array(g);
  for (let q = 0; q < g; q++) {
    aR[q] = windowStart(st.aR[q]!, spec.padding[0], kh, sh, outH, oH);
    aC[q] = windowStart(st.aC[q]!, spec.padding[2], kw, sw, outW, oW);
  }
  return { next: { bh: st.bh, bw: st.bw, wH: oH, wW: oW, aR, aC }, regH: (oH - 1) * sh + kh, regW: (oW - 1) * sw + kw };
}

/**
 * Geometry of a pooling step over n×n blocks of the grid (ceil mode, edge members repeated):
 * `members[block·n² + m]` is the grid cell of member m (row-major), and every block gets one
 * union window of the stage's largest extent, placed to contain all its members' windows.
 */
function poolGeometry(st: WindowRows, n: number, mapH: number, mapW: number): { next: WindowRows; members: Int32Array } {
  const gh = Math.ceil(st.bh / n);
  const gw = Math.ceil(st.bw / n);
  const members = new Int32Array(gh * gw * n * n);
  const lo = new Int32Array(gh * gw * 2);
  let uH = 0;
  let uW = 0;
  for (let I = 0, q = 0; I < gh; I++) {
    for (let J = 0; J < gw; J++) {
      let r0 = Infinity, r1 = -Infinity, c0 = Infinity, c1 = -Infinity;
      for (let a = 0; a < n; a++) {
        for (let b = 0; b < n; b++, q++) {
          const cell = Math.min(I * n + a, st.bh - 1) * st.bw + Math.min(J * n + b, st.bw - 1);
          members[q] = cell;
          r0 = Math.min(r0, st.aR[cell]!);
          r1 = Math.max(r1, st.aR[cell]! + st.wH);
          c0 = Math.min(c0, st.aC[cell]!);
          c1 = Math.max(c1, st.aC[cell]! + st.wW);
        }
      }
      lo[(I * gw + J) * 2] = r0;
      lo[(I * gw + J) * 2 + 1] = c0;
      uH = Math.max(uH, r1 - r0);
      uW = Math.max(uW, c1 - c0);
    }
  }
  const aR = new Int32Array(gh * gw);
  const aC = new Int32Array(gh * gw);
  for (let q = 0; q < gh * gw; q++) {
    aR[q] = Math.min(lo[q * 2]!, mapH - uH);
    aC[q] = Math.min(lo[q * 2 + 1]!, mapW - uW);
  }
  return { next: { bh: gh, bw: gw, wH: uH, wW: uW, aR, aC }, members };
}

/**
 * Fast bound pooling for models that start with convolutions. Each location's box differs from
 * the clean activations only in a small window (the conv-window plan's observation), so a
 * block's pooled box is the clean activations outside the union of its members' windows and,
 * inside it, the element-wise max (upper) / min (lower) over the members, where a member
 * contributes the clean value (a degenerate interval) outside its own window. Blocks carry that
 * union window onward exactly like locations carry theirs: a conv reads the region its output
 * window needs (clean padded activations overwritten by the window) and runs a 'valid' conv;
 * ReLU acts on the window; at the flatten the full map is assembled and the dense layers use the
 * plain rules (pooled again where the list says). Regions and unions are copied on the host from
 * constant index tables, with a host scatter-add as their gradient (see `gatherTwo`), so
 * gradients reach the weights without tfjs-wasm's slow gather kernel.
 */
export function pooledConvWindowPlan(prep: PreparedBatch, threat: PatchThreat, pool: PoolList): PooledMarginPlan {
  const { model, boxes, onehot } = prep;
  const [batch, h, w, c] = boxes.clean.shape;
  const [gh, gw] = threat.grid(h, w);
  const span = poolSpan(pool);
  const flatIdx = model.layers.findIndex((l) => l.type === 'flatten');
  const last = model.layers.length - 1;

  // Clean activations once per batch: each conv's padded input and every layer's output.
  const pre = tf.tidy(() => cleanConvPass(model, boxes.clean, flatIdx));
  /** A `[1, ch]` zero row (the radius outside every window), one per channel count. */
  const zeros = new Map<number, tf.Tensor2D>();
  const zeroRow = (ch: number): tf.Tensor2D => {
    let z = zeros.get(ch);
    if (!z) {
      z = tf.keep(tf.zeros([1, ch]) as tf.Tensor2D);
      zeros.set(ch, z);
    }
    return z;
  };
  const px = { clean: boxes.clean.dataSync() as Float32Array, mu: boxes.box.mu.dataSync() as Float32Array, r: boxes.box.r.dataSync() as Float32Array };

  /** Rows of the input stage: locations of rows `[r0, r1)`, windows = the stencil's bounding box. */
  const inputRows = (r0: number, r1: number): WindowRows => {
    const g = (r1 - r0) * gw;
    const aR = new Int32Array(g);
    const aC = new Int32Array(g);
    for (let q = 0; q < g; q++) {
      aR[q] = r0 + Math.floor(q / gw);
      aC[q] = q % gw;
    }
    return { bh: r1 - r0, bw: gw, wH: threat.height, wW: threat.width, aR, aC };
  };

  /** Walks the window stage's geometry; `visit` sees each step (for costs and for the pass). */
  type Step =
    | { kind: 'conv'; layer: number; spec: Conv2DSpec; st: WindowRows; next: WindowRows; regH: number; regW: number }
    | { kind: 'relu'; layer: number }
    | { kind: 'pool'; layer: number; n: number; st: WindowRows; next: WindowRows; members: Int32Array };
  const walk = (st0: WindowRows): { steps: Step[]; end: WindowRows } => {
    const steps: Step[] = [];
    let st = st0;
    for (let i = 0; i < flatIdx; i++) {
      const layer = model.layers[i]!;
      const out = model.shapes[i]!;
      if (layer.type === 'conv2d') {
        const g = convGeometry(st, layer, out[0]!, out[1]!);
        steps.push({ kind: 'conv', layer: i, spec: layer, st, next: g.next, regH: g.regH, regW: g.regW });
        st = g.next;
      } else {
        steps.push({ kind: 'relu', layer: i });
      }
      const n = pool[i] ?? 1;
      if (n > 1) {
        const g = poolGeometry(st, n, out[0]!, out[1]!);
        steps.push({ kind: 'pool', layer: i, n, st, next: g.next, members: g.members });
        st = g.next;
      }
    }
    return { steps, end: st };
  };

  // Floats per location of the largest intermediate over the full grid.
  const locs = gh * gw;
  const full = walk(inputRows(0, gh));
  const flatShape = model.shapes[flatIdx - 1]!;
  let rowCost = Math.max(threat.height * threat.width * c, ...model.shapes.slice(flatIdx).map((s) => s.reduce((a, b) => a * b, 1)));
  for (const s of full.steps) {
    if (s.kind === 'conv') {
      const inC = s.layer === 0 ? c : model.shapes[s.layer - 1]![2]!;
      const perRow = Math.max(s.regH * s.regW * inC, s.next.wH * s.next.wW * s.spec.filters);
      rowCost = Math.max(rowCost, Math.ceil((perRow * s.st.bh * s.st.bw) / locs));
    } else if (s.kind === 'pool') {
      const ch = model.shapes[s.layer]![2]!;
      rowCost = Math.max(rowCost, Math.ceil((s.n * s.n * s.next.wH * s.next.wW * ch * s.next.bh * s.next.bw) / locs));
    }
  }

  /** Input windows of a band, from the host copies of the boxes (constants: no weights yet). */
  const inputWindows = (st: WindowRows): CenterRadius => {
    const g = st.bh * st.bw;
    const size = st.wH * st.wW * c;
    const mu = new Float32Array(batch * g * size);
    const r = new Float32Array(batch * g * size);
    for (let b = 0; b < batch; b++) {
      for (let q = 0; q < g; q++) {
        let o = (b * g + q) * size;
        for (let i = 0; i < st.wH; i++) {
          for (let j = 0; j < st.wW; j++) {
            const on = threat.stencil[i * st.wW + j] === 1;
            const src = (b * h * w + (st.aR[q]! + i) * w + st.aC[q]! + j) * c;
            for (let k = 0; k < c; k++, o++) {
              mu[o] = on ? px.mu[src + k]! : px.clean[src + k]!;
              r[o] = on ? px.r[src + k]! : 0;
            }
          }
        }
      }
    }
    return { mu: tf.tensor4d(mu, [batch * g, st.wH, st.wW, c]), r: tf.tensor4d(r, [batch * g, st.wH, st.wW, c]) };
  };

  /**
   * Index into `[clean cells of the map (batch · mapH · mapW); window cells of the rows]` of map
   * cell (y, x) for row (b, q) of stage `st`: the window's cell (≥ nClean) when (y, x) is inside
   * it, else the clean cell.
   */
  const cellIndex = (st: WindowRows, b: number, q: number, y: number, x: number, mapH: number, mapW: number, nClean: number): number => {
    const ur = y - st.aR[q]!;
    const uc = x - st.aC[q]!;
    if (ur >= 0 && ur < st.wH && uc >= 0 && uc < st.wW) return nClean + ((b * st.bh * st.bw + q) * st.wH + ur) * st.wW + uc;
    return (b * mapH + y) * mapW + x;
  };

  /** Rows `idx` of `[src; window cells]` as `[idx.length, ch]` (host copy; gradients reach both). */
  const gatherRows = (src: tf.Tensor2D, win: tf.Tensor, ch: number, idx: Int32Array): tf.Tensor => gatherTwo(src, tf.reshape(win, [-1, ch]), idx);

  return {
    grid: [Math.ceil(gh / span), Math.ceil(gw / span)],
    span,
    rowCost,
    margins(j0: number, j1: number): tf.Tensor3D {
      return tf.tidy(() => {
        const [r0, r1] = bandRows(j0, j1, span, gh);
        const { steps, end } = walk(inputRows(r0, r1));
        let st = inputRows(r0, r1);
        let { mu, r } = inputWindows(st);
        for (const step of steps) {
          if (step.kind === 'relu') {
            ({ mu, r } = intervalRelu({ mu, r }));
          } else if (step.kind === 'conv') {
            const { spec, regH, regW, next } = step;
            const [sh, sw] = spec.strides;
            const inShape = step.layer === 0 ? [h, w, c] : model.shapes[step.layer - 1]!;
            const hp = inShape[0]! + spec.padding[0] + spec.padding[1];
            const wp = inShape[1]! + spec.padding[2] + spec.padding[3];
            const inC = inShape[2]!;
            const g = st.bh * st.bw;
            const nClean = batch * hp * wp;
            const idxMu = new Int32Array(batch * g * regH * regW);
            const idxR = new Int32Array(idxMu.length);
            for (let b = 0, o = 0; b < batch; b++) {
              for (let q = 0; q < g; q++) {
                for (let i = 0; i < regH; i++) {
                  const prow = next.aR[q]! * sh + i;
                  for (let j = 0; j < regW; j++, o++) {
                    const pcol = next.aC[q]! * sw + j;
                    // The window lives in unpadded coordinates of the layer's input.
                    const t = cellIndex(st, b, q, prow - spec.padding[0], pcol - spec.padding[2], hp, wp, nClean);
                    const inside = t >= nClean;
                    idxMu[o] = inside ? t : (b * hp + prow) * wp + pcol;
                    idxR[o] = inside ? 1 + t - nClean : 0;
                  }
                }
              }
            }
            const n = batch * g;
            const regMu = tf.reshape(gatherRows(pre.padded[step.layer]!, mu, inC, idxMu), [n, regH, regW, inC]) as tf.Tensor4D;
            const regR = tf.reshape(gatherRows(zeroRow(inC), r, inC, idxR), [n, regH, regW, inC]) as tf.Tensor4D;
            const wts = model.weights[step.layer]!;
            mu = tf.add(tf.conv2d(regMu, wts.kernel as tf.Tensor4D, [sh, sw], 'valid'), wts.bias);
            r = tf.conv2d(regR, tf.abs(wts.kernel) as tf.Tensor4D, [sh, sw], 'valid');
            st = next;
          } else {
            const { n, next, members } = step;
            const [mapH, mapW, ch] = model.shapes[step.layer]! as [number, number, number];
            const blocks = next.bh * next.bw;
            const nClean = batch * mapH * mapW;
            const idx = new Int32Array(batch * blocks * n * n * next.wH * next.wW);
            for (let b = 0, o = 0; b < batch; b++) {
              for (let blk = 0; blk < blocks; blk++) {
                for (let m = 0; m < n * n; m++) {
                  const q = members[blk * n * n + m]!;
                  for (let i = 0; i < next.wH; i++) {
                    for (let j = 0; j < next.wW; j++, o++) idx[o] = cellIndex(st, b, q, next.aR[blk]! + i, next.aC[blk]! + j, mapH, mapW, nClean);
                  }
                }
              }
            }
            const rows = batch * blocks;
            const shape = [rows, n * n, next.wH * next.wW * ch];
            const upper = reduceMembers(tf.reshape(gatherRows(pre.acts[step.layer]!, tf.add(mu, r), ch, idx), shape), 1);
            const lower = reduceMembers(tf.reshape(gatherRows(pre.acts[step.layer]!, tf.sub(mu, r), ch, idx), shape), -1);
            ({ mu, r } = fromBounds(tf.reshape(lower, [rows, next.wH, next.wW, ch]), tf.reshape(upper, [rows, next.wH, next.wW, ch])));
            st = next;
          }
        }
        // Full map at the flatten: clean activations with each row's window written in.
        const [fh, fw, fc] = flatShape as [number, number, number];
        const g = end.bh * end.bw;
        const nClean = batch * fh * fw;
        const idxMu = new Int32Array(batch * g * fh * fw);
        const idxR = new Int32Array(idxMu.length);
        for (let b = 0, o = 0; b < batch; b++) {
          for (let q = 0; q < g; q++) {
            for (let i = 0; i < fh; i++) {
              for (let j = 0; j < fw; j++, o++) {
                const t = cellIndex(end, b, q, i, j, fh, fw, nClean);
                idxMu[o] = t;
                idxR[o] = t >= nClean ? 1 + t - nClean : 0;
              }
            }
          }
        }
        const n = batch * g;
        const flatMu = tf.reshape(gatherRows(pre.acts[flatIdx - 1]!, mu, fc, idxMu), [n, fh * fw * fc]);
        const flatR = tf.reshape(gatherRows(zeroRow(fc), r, fc, idxR), [n, fh * fw * fc]);
        const atFlat = poolAfter({ box: { mu: flatMu, r: flatR }, bh: end.bh, bw: end.bw }, flatIdx, pool, batch);
        const out = propagatePooled(model, atFlat.box, flatIdx + 1, last, pool, batch, atFlat.bh, atFlat.bw);
        return elidedMarginsCenterRadius(model, out.box, onehot, prep.hostLabels);
      });
    },
    dispose() {
      tf.dispose([...pre.padded.filter((t) => t), ...pre.acts.filter((t) => t), ...zeros.values()]);
    },
  };
}
