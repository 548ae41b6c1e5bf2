// backend/kernels: the kernels IBP training leans on, on every backend that starts, side by side;
// plus wasm with the stock kernels patchcert replaces, to show what the replacements buy.
import { Bench } from 'tinybench';
import { initBackend, registerWasmKernels, restoreStockWasmKernels, tf, type BackendName } from '@patchcert/backend';
import { benchOptions, type BenchPreset } from '../internal/preset.js';
import { startableBackends } from '../internal/backends.js';
import { sideBySide } from '../internal/side-by-side.js';
import type { BenchRunOptions } from '../internal/options.js';
import { recordBench } from '../internal/results.js';

const CONV_PAD: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];

/** Adds a task whose tensors are made by `setup` on the running backend before it is timed. */
function addTask<T extends tf.TensorContainer>(bench: Bench, name: string, setup: () => T, step: (inputs: T) => tf.Tensor[]): void {
  let inputs: T | undefined;
  bench.add(
    name,
    () => {
      const outs = tf.tidy(() => step(inputs!));
      // Reading back makes the timed work include everything the backend does.
      for (const t of outs) t.dataSync();
      tf.dispose(outs);
    },
    {
      beforeAll: () => {
        inputs = tf.tidy(setup);
      },
      afterAll: () => {
        tf.dispose(inputs);
        inputs = undefined;
      },
    },
  );
}

/** Interval loss of an MLP 784-255-10: IBP through the hidden layer, last layer elided with C = e_y − e_j. */
function mlpIbpLoss(w1: tf.Variable, b1: tf.Variable, w2: tf.Variable, b2: tf.Variable, x: tf.Tensor2D, y: tf.Tensor1D): tf.Scalar {
  const eps = 0.1;
  const lo0 = tf.maximum(tf.sub(x, eps), 0);
  const hi0 = tf.minimum(tf.add(x, eps), 1);
  const c0 = tf.div(tf.add(lo0, hi0), 2);
  const r0 = tf.div(tf.sub(hi0, lo0), 2);
  const c1 = tf.add(tf.matMul(c0, w1), b1);
  const r1 = tf.matMul(r0, tf.abs(w1));
  const lo = tf.relu(tf.sub(c1, r1));
  const hi = tf.relu(tf.add(c1, r1));
  const [batch, hidden] = c1.shape as [number, number];
  const classes = w2.shape[1]!;
  const c2 = tf.reshape(tf.div(tf.add(lo, hi), 2), [batch, hidden, 1]);
  const r2 = tf.reshape(tf.div(tf.sub(hi, lo), 2), [batch, hidden, 1]);
  const wt = tf.transpose(w2);
  const diff = tf.sub(tf.expandDims(tf.gather(wt, y), 1), tf.expandDims(wt, 0));
  const bDiff = tf.sub(tf.expandDims(tf.gather(b2, y), 1), tf.expandDims(b2, 0));
  const margin = tf.add(
    tf.sub(tf.reshape(tf.matMul(diff, c2), [batch, classes]), tf.reshape(tf.matMul(tf.abs(diff), r2), [batch, classes])),
    bDiff,
  );
  return tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), tf.neg(margin)) as tf.Scalar;
}

/**
 * Adds the kernel tasks to `bench`. The deep conv step is left out on cpu, where one run takes
 * about 40 s (tfjs-cpu convolutions are scalar loops); the table shows n/a there.
 */
/**
 * Interval loss of a small CNN (conv 4 k4 s2 p1 → relu → flatten → dense 10) for a 5×5 patch box
 * at radius 0.3: IBP through the conv (center/radius with |W|), last layer elided with C = e_y − e_j.
 */
function cnnIbpLoss(w1: tf.Variable, b1: tf.Variable, w2: tf.Variable, b2: tf.Variable, x: tf.Tensor4D, y: tf.Tensor1D): tf.Scalar {
  const batch = x.shape[0];
  const mask = tf.pad(tf.ones([1, 5, 5, 1]), [[0, 0], [10, 13], [10, 13], [0, 0]]);
  const lo0 = tf.maximum(tf.sub(x, tf.mul(mask, 0.3)), 0);
  const hi0 = tf.minimum(tf.add(x, tf.mul(mask, 0.3)), 1);
  const c0 = tf.div(tf.add(lo0, hi0), 2) as tf.Tensor4D;
  const r0 = tf.div(tf.sub(hi0, lo0), 2) as tf.Tensor4D;
  const c1 = tf.add(tf.conv2d(c0, w1 as tf.Tensor4D, 2, CONV_PAD), b1);
  const r1 = tf.conv2d(r0, tf.abs(w1) as tf.Tensor4D, 2, CONV_PAD);
  const lo = tf.relu(tf.sub(c1, r1));
  const hi = tf.relu(tf.add(c1, r1));
  const hidden = w2.shape[0]!;
  const classes = w2.shape[1]!;
  const c2 = tf.reshape(tf.div(tf.add(lo, hi), 2), [batch, hidden, 1]);
  const r2 = tf.reshape(tf.div(tf.sub(hi, lo), 2), [batch, hidden, 1]);
  const wt = tf.transpose(w2);
  const diff = tf.sub(tf.expandDims(tf.gather(wt, y), 1), tf.expandDims(wt, 0));
  const bDiff = tf.sub(tf.expandDims(tf.gather(b2, y), 1), tf.expandDims(b2, 0));
  const margin = tf.add(
    tf.sub(tf.reshape(tf.matMul(diff, c2), [batch, classes]), tf.reshape(tf.matMul(tf.abs(diff), r2), [batch, classes])),
    bDiff,
  );
  return tf.losses.softmaxCrossEntropy(tf.oneHot(y, classes), tf.neg(margin)) as tf.Scalar;
}

function addKernelTasks(bench: Bench, backend: BackendName): void {
  addTask(
    bench,
    'matmul 2560x784 · 784x255',
    () => ({ a: tf.randomNormal([2560, 784], 0, 1, 'float32', 1), b: tf.randomNormal([784, 255], 0, 1, 'float32', 2) }),
    ({ a, b }) => [tf.matMul(a, b)],
  );
  addTask(
    bench,
    'matmul Aᵀ·B 256x784ᵀ · 256x255 (dense weight grad)',
    () => ({ a: tf.randomNormal([256, 784], 0, 1, 'float32', 3), b: tf.randomNormal([256, 255], 0, 1, 'float32', 4) }),
    ({ a, b }) => [tf.matMul(a, b, true, false)],
  );
  addTask(
    bench,
    'conv step 256x28x28x1 k4 s2 → 4ch (fwd + both grads)',
    () => ({
      x: tf.randomUniform([256, 28, 28, 1], 0, 1, 'float32', 5) as tf.Tensor4D,
      w: tf.randomNormal([4, 4, 1, 4], 0, 0.5, 'float32', 6) as tf.Tensor4D,
      dy: tf.randomNormal([256, 14, 14, 4], 0, 1, 'float32', 7),
    }),
    ({ x, w, dy }) =>
      tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 2, CONV_PAD), dy)))([x, w]),
  );
  if (backend !== 'cpu') {
    addTask(
      bench,
      'conv step 256x14x14x16 k4 s2 → 32ch (fwd + both grads)',
      () => ({
        x: tf.randomUniform([256, 14, 14, 16], 0, 1, 'float32', 12) as tf.Tensor4D,
        w: tf.randomNormal([4, 4, 16, 32], 0, 0.1, 'float32', 13) as tf.Tensor4D,
        dy: tf.randomNormal([256, 7, 7, 32], 0, 1, 'float32', 14),
      }),
      ({ x, w, dy }) =>
        tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, 2, CONV_PAD), dy)))([x, w]),
    );
  }
  addTask(
    bench,
    'ibp step mlp 784-255-10 b256 (loss + grads)',
    () => ({
      x: tf.randomUniform([256, 784], 0, 1, 'float32', 10) as tf.Tensor2D,
      y: tf.cast(tf.randomUniform([256], 0, 10, 'float32', 11).floor(), 'int32') as tf.Tensor1D,
      vars: [
        tf.variable(tf.randomNormal([784, 255], 0, 0.05, 'float32', 8), true),
        tf.variable(tf.zeros([255]), true),
        tf.variable(tf.randomNormal([255, 10], 0, 0.1, 'float32', 9), true),
        tf.variable(tf.zeros([10]), true),
      ],
    }),
    ({ x, y, vars: [w1, b1, w2, b2] }) => {
      const { value, grads } = tf.variableGrads(() => mlpIbpLoss(w1!, b1!, w2!, b2!, x, y), [w1!, b1!, w2!, b2!]);
      return [value, ...Object.values(grads)];
    },
  );
  addTask(
    bench,
    'ibp step cnn conv4 k4 s2 + dense 10, 256x28x28x1 (loss + grads)',
    () => ({
      x: tf.randomUniform([256, 28, 28, 1], 0, 1, 'float32', 15) as tf.Tensor4D,
      y: tf.cast(tf.randomUniform([256], 0, 10, 'float32', 16).floor(), 'int32') as tf.Tensor1D,
      vars: [
        tf.variable(tf.randomNormal([4, 4, 1, 4], 0, 0.5, 'float32', 17), true),
        tf.variable(tf.zeros([4]), true),
        tf.variable(tf.randomNormal([14 * 14 * 4, 10], 0, 0.05, 'float32', 18), true),
        tf.variable(tf.zeros([10]), true),
      ],
    }),
    ({ x, y, vars: [w1, b1, w2, b2] }) => {
      const { value, grads } = tf.variableGrads(() => cnnIbpLoss(w1!, b1!, w2!, b2!, x, y), [w1!, b1!, w2!, b2!]);
      return [value, ...Object.values(grads)];
    },
  );
}

/**
 * Runs the backend/kernels benchmarks on every backend that starts and prints them side by side.
 * @param preset - `quick` or `full`.
 * @param options - `backends` to try instead of all of them.
 */
export async function run(preset: BenchPreset, options: BenchRunOptions = {}): Promise<void> {
  const { started, skipped } = await startableBackends(options.backends);
  const columns: Array<readonly [string, Bench]> = [];
  for (const backend of started) {
    await initBackend(backend.name);
    const bench = new Bench(benchOptions(preset, `backend/kernels ${backend.description}`));
    addKernelTasks(bench, backend.name);
    await bench.run();
    columns.push([backend.name, bench]);
    if (backend.name === 'wasm') {
      restoreStockWasmKernels();
      try {
        const stock = new Bench(benchOptions(preset, `backend/kernels ${backend.description}, stock BatchMatMul + Conv2DBackpropInput`));
        addKernelTasks(stock, backend.name);
        await stock.run();
        columns.push(['wasm stock', stock]);
      } finally {
        registerWasmKernels();
      }
    }
  }
  for (const [, bench] of columns) {
    console.log(`\n${bench.name}`);
    console.table(bench.table());
    recordBench(bench);
  }
  console.log(
    `\nbackend/kernels side by side (${preset}), median (min) ms; "wasm stock" = tfjs-backend-wasm's own BatchMatMul and Conv2DBackpropInput`,
  );
  console.table(sideBySide(columns));
  for (const line of skipped) console.log(`skipped ${line}`);
}
