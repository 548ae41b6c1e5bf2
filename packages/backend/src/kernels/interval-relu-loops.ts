// The elementwise loops behind PcIntervalRelu and PcIntervalReluGrad, shared by every backend that
// runs them on the host (cpu, and wasm through its heap). Each intermediate is rounded to float32
// (Math.fround) exactly where the composite tfjs formulation stores a float32 tensor, so the
// results are bit-identical to it; V8 compiles fround to one conversion, so this costs little.

/** μ' = (u+l)/2, r' = (u−l)/2 with l = max(μ−r, 0), u = max(μ+r, 0). */
export function intervalReluLoop(inputs: readonly Float32Array[], outputs: readonly Float32Array[]): void {
  const mu = inputs[0]!;
  const r = inputs[1]!;
  const outMu = outputs[0]!;
  const outR = outputs[1]!;
  const n = mu.length;
  for (let i = 0; i < n; i++) {
    const m = mu[i]!;
    const s = r[i]!;
    let l = Math.fround(m - s);
    let u = Math.fround(m + s);
    // Like tfjs's relu: anything not above 0 (NaN aside) becomes 0.
    if (!(l > 0)) l = l !== l ? l : 0;
    if (!(u > 0)) u = u !== u ? u : 0;
    outMu[i] = Math.fround(u + l) * 0.5;
    outR[i] = Math.fround(u - l) * 0.5;
  }
}

/** gu = [μ+r > 0]·(dμ'+dr')/2, gl = [μ−r > 0]·(dμ'−dr')/2; gμ = gu + gl, gr = gu − gl. */
export function intervalReluGradLoop(inputs: readonly Float32Array[], outputs: readonly Float32Array[]): void {
  const mu = inputs[0]!;
  const r = inputs[1]!;
  const dMu = inputs[2]!;
  const dR = inputs[3]!;
  const gMu = outputs[0]!;
  const gR = outputs[1]!;
  const n = mu.length;
  for (let i = 0; i < n; i++) {
    const m = mu[i]!;
    const s = r[i]!;
    const a = dMu[i]! * 0.5;
    const b = dR[i]! * 0.5;
    const gu = Math.fround(m + s) > 0 ? Math.fround(a + b) : 0;
    const gl = Math.fround(m - s) > 0 ? Math.fround(a - b) : 0;
    gMu[i] = gu + gl;
    gR[i] = gu - gl;
  }
}
