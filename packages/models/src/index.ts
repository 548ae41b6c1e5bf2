/**
 * @packageDocumentation
 * `@patchcert/models`: the paper's networks as small sequential models (dense, conv2d, relu,
 * flatten over NHWC), their seeded initialization, and save/load as tfjs LayersModel artifacts
 * with the metadata certification needs.
 *
 * Importing it registers a `file://` IO router with tfjs (see `registerFileSystemRouter`), so
 * `tf.loadLayersModel('file:///abs/dir/model.json')` works in Node.
 */

import './register-file-router.js';

// #region model
export { SequentialModel, applyLayer } from './sequential-model.js';
export type { ModelMetadata, TrainingRecord, LayerWeights } from './sequential-model.js';
export { layerOutputShape } from './layer-spec.js';
export type { LayerSpec, DenseSpec, Conv2DSpec, ReluSpec, FlattenSpec } from './layer-spec.js';
// #endregion

// #region architectures
export { buildModel, ARCHITECTURES, architectureLayers, initializeWeights, toArchitectureName } from './builders.js';
export type { ArchitectureName, BuildModelOptions } from './builders.js';
// #endregion

// #region save and load
export { saveModel, loadModel, modelToArtifacts, modelFromArtifacts } from './model-io.js';
export type { SavedModelInfo, SavedModelMetadata, FromArtifactsOptions } from './model-io.js';
export { FileSystemHandler, fileSystem, fileSystemRouter, registerFileSystemRouter, MODEL_JSON, WEIGHTS_BIN } from './file-system-io.js';
// #endregion
