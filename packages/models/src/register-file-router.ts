// Side effect: registers the `file://` IO router with tfjs when @patchcert/models is imported, so
// `tf.loadLayersModel('file:///…/model.json')` works in Node. Listed in package.json
// "sideEffects" and imported only from index.ts; registration itself is idempotent.
import { registerFileSystemRouter } from './file-system-io.js';

registerFileSystemRouter();
