import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { layerOutputShape } from '@patchcert/models';

const shape = suite('layerOutputShape');

shape('[conv k4 s2 p1] should halve 28×28 to 14×14', () => {
  assert.equal(layerOutputShape({ type: 'conv2d', filters: 4, kernelSize: [4, 4], strides: [2, 2], padding: [1, 1, 1, 1] }, [28, 28, 1]), [14, 14, 4]);
});

shape('[conv asymmetric padding] should add top+bottom and left+right separately', () => {
  assert.equal(layerOutputShape({ type: 'conv2d', filters: 2, kernelSize: [3, 1], strides: [1, 1], padding: [2, 0, 0, 3] }, [5, 5, 1]), [5, 8, 2]);
});

shape('should flatten to the product and keep relu shapes', () => {
  assert.equal(layerOutputShape({ type: 'flatten' }, [7, 7, 8]), [392]);
  assert.equal(layerOutputShape({ type: 'relu' }, [3, 4, 5]), [3, 4, 5]);
  assert.equal(layerOutputShape({ type: 'dense', units: 9 }, [392]), [9]);
});

shape.run();
