// The pooling tests use the shared helpers of backend and models (the same as bounds' tests).
export { assertClose, throwsCode, randomImages, randomLabels } from '@patchcert/backend/testing';
export { customModel, conv, dense, relu, flatten } from '@patchcert/models/testing';
