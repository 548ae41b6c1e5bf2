import { op, intervalReluBox } from '@patchcert/backend';
import type { CenterRadius } from './interval.js';

const intervalRelu_ = (box: CenterRadius): CenterRadius => {
  // ReLU is monotone, so the box maps to [relu(l), relu(u)] (reference-spec §3). One fused kernel
  // (PcIntervalRelu, with a fused gradient) instead of 8 elementwise ops where the backend has it;
  // the same bits either way.
  const out = intervalReluBox(box.mu, box.r);
  return { mu: out.mu, r: out.r };
};

/** Interval rule of ReLU: `[max(l,0), max(u,0)]`, any shape. */
export const intervalRelu = op({ intervalRelu_ });
