// Every package reaches tfjs through this one module so the whole toolkit shares one engine
// (the union package: tfjs-core alone registers no gradients in its Node bundle).
import * as tf from '@tensorflow/tfjs';

export { tf };
