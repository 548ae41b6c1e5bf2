// The U-Net's own ops (convolution with bias and its gradient, 1×1 convolutions as matMuls,
// BatchNorm with the textbook gradient, channel sums as matMuls) against the same network
// written with plain tfjs ops and differentiated by tfjs: outputs and every gradient.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tf } from '@patchcert/backend';
import { ResNetUNet } from '@patchcert/unet-guide';
import { initTrainingBackend } from './___helpers.js';

const ops = suite('ResNetUNet ops vs plain tfjs');

ops.before(async () => {
  await initTrainingBackend();
});

/** The network of ResNetUNet.forward from its named variables, with stock ops only. */
function plainForward(unet: ResNetUNet, x: tf.Tensor4D, vars: Record<string, tf.Tensor>, training: boolean): tf.Tensor4D {
  const conv = (name: string, t: tf.Tensor4D, stride: number, pad: number): tf.Tensor4D => {
    const y = tf.conv2d(t, vars[`${name}.weight`] as tf.Tensor4D, stride, pad);
    const b = vars[`${name}.bias`];
    return b ? tf.add(y, b) : y;
  };
  const bn = (name: string, t: tf.Tensor4D): tf.Tensor4D => {
    const { mean, variance } = training ? tf.moments(t, [0, 1, 2]) : { mean: vars[`${name}.running_mean`]!, variance: vars[`${name}.running_var`]! };
    return tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, 1e-5))), vars[`${name}.weight`]!), vars[`${name}.bias`]!);
  };
  const block = (name: string, t: tf.Tensor4D, stride: number): tf.Tensor4D => {
    const h = tf.relu(bn(`${name}.bn1`, conv(`${name}.conv1`, t, stride, 1)));
    const y = bn(`${name}.bn2`, conv(`${name}.conv2`, h, 1, 1));
    const shortcut = vars[`${name}.downsample.0.weight`] ? bn(`${name}.downsample.1`, conv(`${name}.downsample.0`, t, stride, 0)) : t;
    return tf.relu(tf.add(y, shortcut));
  };
  const up = (t: tf.Tensor4D, like: tf.Tensor4D) => tf.image.resizeBilinear(t, [like.shape[1], like.shape[2]], true);
  const catConv = (name: string, a: tf.Tensor4D, b: tf.Tensor4D) => tf.relu(conv(name, tf.concat([a, b], 3), 1, 1));
  const xo = tf.relu(conv('conv_original_size1', tf.relu(conv('conv_original_size0', x, 1, 1)), 1, 1));
  const l0 = tf.relu(bn('layer0.bn', conv('layer0.conv', x, 2, 3)));
  let l1: tf.Tensor4D = tf.maxPool(l0, [3, 3], [2, 2], 1);
  l1 = block('layer1.1', block('layer1.0', l1, 1), 1);
  const l2 = block('layer2.1', block('layer2.0', l1, 2), 1);
  const l3 = block('layer3.1', block('layer3.0', l2, 2), 1);
  const s2 = tf.relu(conv('layer2_1x1', l2, 1, 0));
  let d = catConv('conv_up2', up(tf.relu(conv('layer3_1x1', l3, 1, 0)), s2), s2);
  const s1 = tf.relu(conv('layer1_1x1', l1, 1, 0));
  d = catConv('conv_up1', up(d, s1), s1);
  const s0 = tf.relu(conv('layer0_1x1', l0, 1, 0));
  d = catConv('conv_up0', up(d, s0), s0);
  d = catConv('conv_original_size2', up(d, xo), xo);
  void unet;
  return conv('conv_last', d, 1, 0);
}

/** Largest difference relative to the largest magnitude of the reference. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

/**
 * Loss weights: dense noise, or (`sparse`) non-zero at a few cells per image as in a guided fit
 * (the four corners among them), where most of the head's output gradient is zero.
 */
function lossWeights(batch: number, h: number, w: number, sparse: boolean): tf.Tensor {
  if (!sparse) return tf.randomNormal([batch, h, w, 10], 0, 1, 'float32', 23);
  const cells = new Float32Array(batch * h * w);
  for (let n = 0; n < batch; n++) {
    for (const [r, c] of [[0, 0], [0, w - 1], [h - 1, 0], [h - 1, w - 1], [5 + n, 7], [6 + n, 7], [h >> 1, (w >> 1) + n]]) cells[(n * h + r!) * w + c!] = 1 + 0.5 * n;
  }
  return tf.mul(tf.tensor4d(cells, [batch, h, w, 1]), tf.randomNormal([batch, h, w, 10], 0, 1, 'float32', 23));
}

for (const [label, shape, batch] of [['mnist bw 6', [28, 28, 1], 4], ['cifar bw 10', [32, 32, 3], 3]] as const) {
  for (const [training, sparse] of [[true, false], [false, false], [true, true], [false, true]] as const) {
    ops(`[${label}, ${training ? 'batch' : 'running'} statistics, ${sparse ? 'few' : 'all'} pixels in the loss] should match plain tfjs in output and every gradient`, () => {
      const unet = new ResNetUNet({ inputShape: [...shape], seed: 21 });
      // Non-trivial running statistics, so the running-statistics path is exercised too.
      if (!training) for (const [name, v] of unet.namedVariables()) if (name.includes('running')) v.assign(tf.add(v, tf.randomUniform(v.shape, 0.1, 0.5, 'float32', 5)));
      const x = tf.randomUniform([batch, ...shape], 0, 1, 'float32', 22) as tf.Tensor4D;
      const weights = lossWeights(batch, shape[0], shape[1], sparse);
      const named = Object.fromEntries(unet.namedVariables().map(([n, v]) => [n, v as tf.Tensor]));
      const trainable = unet.trainableVariables();
      const loss = (out: tf.Tensor4D) => tf.sum(tf.mul(tf.square(out), weights)) as tf.Scalar;
      const fast = tf.variableGrads(() => loss(unet.forward(x, { training, updateRunningStats: false })), trainable);
      const plain = tf.variableGrads(() => loss(plainForward(unet, x, named, training)), trainable);
      const outFast = tf.tidy(() => unet.forward(x, { training, updateRunningStats: false }).dataSync());
      const outPlain = tf.tidy(() => plainForward(unet, x, named, training).dataSync());
      assert.ok(relErr(outFast, outPlain) < 1e-5, `output: ${relErr(outFast, outPlain)}`);
      assert.ok(Math.abs(fast.value.dataSync()[0]! - plain.value.dataSync()[0]!) <= 1e-5 * Math.abs(plain.value.dataSync()[0]!));
      const nameOf = new Map(unet.namedVariables().map(([n, v]) => [v.name, n]));
      // A bias right before a batch-statistics BatchNorm has a zero gradient in exact arithmetic;
      // both sides give rounding noise there, so errors are also measured against the largest
      // gradient entry of the whole network.
      const global = Math.max(...trainable.map((v) => Math.max(...Array.from(plain.grads[v.name]!.dataSync(), Math.abs))));
      const bad: string[] = [];
      for (const v of trainable) {
        const a = fast.grads[v.name]!.dataSync();
        const b = plain.grads[v.name]!.dataSync();
        const e = relErr(a, b);
        const abs = Math.max(...Array.from(b, (bv, i) => Math.abs(a[i]! - bv)));
        if (e > 1e-4 && abs > 1e-6 * global) bad.push(`${nameOf.get(v.name)} ${e.toExponential(2)} (abs ${abs.toExponential(2)})`);
      }
      assert.equal(bad, [], `gradients off: ${bad.join(', ')}`);
      tf.dispose([x, weights, fast.value, plain.value, ...Object.values(fast.grads), ...Object.values(plain.grads)]);
      unet.dispose();
    });
  }
}

ops.run();
