// The exports of patchcert's compiled wasm module (scripts/build-wasm.mjs). One module holds
// every loop, so tfjs's memory is imported once per backend.
export { intervalRelu, intervalReluGrad } from './interval-relu';
export { reluElidedMargins, windowReluMargins, reluDenseReluMargins, denseTailMargins } from './relu-elided-margins';
export { windowSums } from './window-sums';
export { conv2dBackpropFilter } from './conv2d-backprop-filter';
export { sumLeading } from './sum-leading';
export { gatherRuns } from './gather-runs';
export { maxPoolGrad } from './max-pool-grad';
export { resizeBilinearGrad } from './resize-bilinear-grad';
export { channelBroadcast } from './channel-broadcast';
export { segmentSum } from './segment-sum';
export { rowTimesMatrix, batchedOuter, matMulTransposeA } from './small-batch-matmul';
export { conv2dDirect } from './conv2d-direct';
export { gumbelTopK } from './gumbel-top-k';
