/**
 * @packageDocumentation
 * `@patchcert/unet-guide`: guided patch training (Chiang et al. 2020, reference §7). A ResNet-style
 * U-Net predicts, for every feasible patch location and class, the IBP lower bound of the margin;
 * the guided sampler draws k locations per (image, class) from softmax(−T·prediction); the U-Net
 * is fitted by MSE to the true bounds of those locations; and `guidedPatches({ k, threat })`
 * packages all of it as a `MarginStrategy` for the trainer.
 */

// #region U-Net
export { ResNetUNet } from './resnet-unet.js';
export type { ResNetUNetOptions, UNetForwardOptions } from './resnet-unet.js';
export { TorchAdam } from './torch-adam.js';
export type { TorchAdamOptions, TorchAdamState } from './torch-adam.js';
// #endregion

// #region sampling and training
export { sampleGuidedLocations, sampleGuidedLocationsOf, mergeGuidedSamples } from './guided-sampler.js';
export type { GuidedSample, GuidedSamplerOptions, RandomWords } from './guided-sampler.js';
export { UNetGuide } from './unet-guide.js';
export type { UNetGuideOptions, UNetGuideState } from './unet-guide.js';
export { UNetGuidePool } from './unet-guide-pool.js';
export type { UNetGuidePoolOptions } from './unet-guide-pool.js';
// #endregion

// #region strategy
export { guidedPatches } from './guided-patches.js';
export type { GuidedPatchesOptions, GuidedPatchStrategy } from './guided-patches.js';
export { threatGrid } from './internal/bounds-api.js';
export type { LocationMarginsFn } from './internal/bounds-api.js';
// #endregion

// #region internal types that appear in public signatures
export type { EncodedTensor } from './internal/tensor-codec.js';
// #endregion
