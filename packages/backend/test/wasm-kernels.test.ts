// patchcert's wasm kernels against tfjs's cpu backend, kernel by kernel, on the shapes patchcert
// trains with and the edge cases of each rewrite. IS_TEST makes tfjs check after every kernel that
// the backend holds no more data than the kernel returned, so a leaked intermediate fails here.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, registerWasmKernels, restoreStockWasmKernels, tf, PatchcertError, env } from '@patchcert/backend';
import { KERNEL_TOLERANCE, assertClose, assertWasmMatchesCpu, seededNormal } from './helpers.js';
import { filterGradPath } from '../src/kernels/wasm/Conv2DBackpropFilter.js';
import { directConv2D, directConvPath, directConvPixels } from '../src/kernels/wasm/conv2d-direct.js';
import { transposeAPath } from '../src/kernels/wasm/BatchMatMul.js';
import type { WasmBackend } from '../src/kernels/wasm/wasm-backend.js';

tf.env().set('IS_TEST', true);

type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  tag: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
}

const explicit = (t: number, b: number, l: number, r: number): Pad => [[0, 0], [t, b], [l, r], [0, 0]];

const CONV_CASES: ConvCase[] = [
  { tag: 'k3 s1 valid', x: [2, 7, 7, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'valid' },
  { tag: 'k3 s1 same', x: [2, 7, 7, 3], filter: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { tag: 'k4 s2 pad1 (patchcert)', x: [3, 28, 28, 1], filter: [4, 4, 1, 4], strides: 2, pad: explicit(1, 1, 1, 1) },
  { tag: 'k4 s2 pad1 deep', x: [2, 14, 14, 16], filter: [4, 4, 16, 8], strides: 2, pad: explicit(1, 1, 1, 1) },
  { tag: 'k3 s2 same odd', x: [2, 9, 9, 4], filter: [3, 3, 4, 3], strides: 2, pad: 'same' },
  { tag: 'k4 s2 same even', x: [2, 8, 8, 5], filter: [4, 4, 5, 3], strides: 2, pad: 'same' },
  { tag: 'k4 s2 valid, last row unread', x: [2, 9, 9, 4], filter: [4, 4, 4, 3], strides: 2, pad: 'valid' },
  { tag: 'k3x5 s1x2 asymmetric pad', x: [2, 6, 10, 4], filter: [3, 5, 4, 2], strides: [1, 2], pad: explicit(2, 0, 1, 3) },
  { tag: 'k4 s2 same into 2 ch', x: [2, 8, 8, 2], filter: [4, 4, 2, 3], strides: 2, pad: 'same' },
  { tag: 'k1 s2 (filter smaller than stride)', x: [2, 7, 7, 3], filter: [1, 1, 3, 2], strides: 2, pad: 'valid' },
  { tag: 'k3 s3 pad2 on 10x10', x: [2, 10, 10, 4], filter: [3, 3, 4, 2], strides: 3, pad: explicit(2, 2, 2, 2) },
  { tag: 'k3 s2 pad3 (beyond filter)', x: [1, 5, 5, 2], filter: [3, 3, 2, 2], strides: 2, pad: explicit(3, 3, 3, 3) },
];

function outShape(c: ConvCase): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
  return info.outShape;
}

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

// ---

const filterGrad = suite('Conv2DBackpropFilter');

// The direct loop's blocks (3 input channels, 8 output channels in two 4-lane vectors) and
// their tails, and the U-Net's shapes; every case runs on both wasm paths.
const FILTER_GRAD_CASES: ConvCase[] = [
  ...CONV_CASES,
  { tag: 'U-Net k3 s1 pad1 6->6', x: [4, 28, 28, 6], filter: [3, 3, 6, 6], strides: 1, pad: explicit(1, 1, 1, 1) },
  { tag: 'U-Net k7 s2 pad3 1->6', x: [3, 28, 28, 1], filter: [7, 7, 1, 6], strides: 2, pad: explicit(3, 3, 3, 3) },
  { tag: 'U-Net k3 s2 pad1 12->24 on 7x7', x: [2, 7, 7, 12], filter: [3, 3, 12, 24], strides: 2, pad: explicit(1, 1, 1, 1) },
  { tag: 'batch 1, odd 5x7, 7->13 (channel tails)', x: [1, 5, 7, 7], filter: [3, 3, 7, 13], strides: 1, pad: 'same' },
  { tag: '2->1, 1->3, 5->7 lane tails', x: [2, 6, 5, 2], filter: [2, 3, 2, 1], strides: 1, pad: 'valid' },
  { tag: '1->3 s2 same', x: [2, 9, 6, 1], filter: [3, 3, 1, 3], strides: 2, pad: 'same' },
  { tag: '5->7 s2x1 pad beyond filter', x: [1, 6, 5, 5], filter: [2, 2, 5, 7], strides: [2, 1], pad: explicit(3, 2, 0, 4) },
  { tag: '4->16 k1 s2', x: [3, 7, 7, 4], filter: [1, 1, 4, 16], strides: 2, pad: 'valid' },
  { tag: 'filter larger than the image', x: [2, 3, 3, 2], filter: [5, 5, 2, 6], strides: 1, pad: explicit(2, 2, 2, 2) },
];

// The direct loops run in both builds of patchcert's module: fused multiply-adds (relaxed SIMD,
// on here: initBackend enables it on Node 20) and plain SIMD (env.relaxedSimd off).
const LOOP_PATHS = [
  { tag: 'direct loop, fma', direct: true, fma: true },
  { tag: 'direct loop, plain SIMD', direct: true, fma: false },
] as const;

/** Runs `check` with a kernel's path switch and the module build as `path` says, then restores both. */
async function onPath(path: { direct: boolean; fma: boolean }, kernelPath: { direct: boolean }, check: () => Promise<void>): Promise<void> {
  kernelPath.direct = path.direct;
  env.relaxedSimd = path.fma;
  try {
    await check();
  } finally {
    kernelPath.direct = true;
    env.relaxedSimd = true;
  }
}

for (const path of [...LOOP_PATHS, { tag: 'transposed conv', direct: false, fma: true }]) {
  for (const c of FILTER_GRAD_CASES) {
    filterGrad(`[${c.tag}, ${path.tag}] should match the cpu backend`, async () => {
      const dyShape = outShape(c);
      const xv = seededNormal(size(c.x), 1);
      const dyv = seededNormal(size(dyShape), 2);
      await onPath(path, filterGradPath, () =>
        assertWasmMatchesCpu(
          () =>
            tf.engine().runKernel(
              tf.Conv2DBackpropFilter,
              { x: tf.tensor4d(xv, c.x), dy: tf.tensor4d(dyv, dyShape) },
              { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter } as unknown as tf.NamedAttrMap,
            ) as tf.Tensor,
          KERNEL_TOLERANCE,
          c.tag,
        ),
      );
    });
  }
}

filterGrad('should leave nothing of an earlier result in its output (direct loop)', async () => {
  await initBackend('wasm');
  // The output is allocated from the heap without zeroing; the loop must clear taps no pixel reaches.
  const run = (v: number) =>
    tf.tidy(() => {
      const x = tf.fill([1, 2, 2, 3], v);
      const dy = tf.fill([1, 2, 2, 5], v);
      return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: 1, pad: explicit(2, 2, 2, 2), dataFormat: 'NHWC', filterShape: [5, 5, 3, 5] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    });
  const a = run(7);
  a.dispose();
  const b = run(1);
  const v = b.dataSync();
  // 5×5 taps over a 2×2 image padded by 2 (2×2 outputs): taps in row 0 or column 4 see no
  // pixel; the centre tap sees all four.
  assert.is(v[0], 0);
  assert.is(v[(1 * 5 + 4) * 15 + 7], 0);
  assert.is(v[(2 * 5 + 2) * 15], 4);
  b.dispose();
});

filterGrad('should give conv2d kernel gradients on wasm (stock wasm throws)', async () => {
  await initBackend('wasm');
  const g = tf.tidy(() => {
    const x = tf.ones([1, 3, 3, 1]);
    return tf.grad((w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid').sum())(tf.ones([2, 2, 1, 1]));
  });
  // Each of the four taps sees four ones.
  assert.equal(Array.from(g.dataSync()), [4, 4, 4, 4]);
  g.dispose();
});

filterGrad('should throw INVALID_ARGUMENT for NCHW data', async () => {
  await initBackend('wasm');
  const x = tf.zeros([1, 1, 4, 4]);
  const dy = tf.zeros([1, 1, 3, 3]);
  try {
    tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', filterShape: [2, 2, 1, 1] } as unknown as tf.NamedAttrMap);
    assert.unreachable('NCHW must be refused');
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, 'INVALID_ARGUMENT');
  } finally {
    tf.dispose([x, dy]);
  }
});

filterGrad.run();

// ---

const forwardConv = suite('Conv2D and FusedConv2D');

// Every output-channel count the direct loop takes (its blocks of 1, 2 or 4 pixels), counts it
// leaves to XNNPACK (3, 9, 32), and the geometry its pointer logic branches on: rows that end
// inside a block, taps over the padding on every side, strides, a filter wider than the image,
// and 1×1 filters. Each case runs on both paths against the cpu backend.
const FORWARD_CASES: ConvCase[] = [
  { tag: 'U-Net 28x28 6->6 k3 pad1', x: [2, 28, 28, 6], filter: [3, 3, 6, 6], strides: 1, pad: explicit(1, 1, 1, 1) },
  { tag: 'U-Net 1->6 k7 s2 pad3', x: [2, 28, 28, 1], filter: [7, 7, 1, 6], strides: 2, pad: explicit(3, 3, 3, 3) },
  { tag: 'U-Net 7x7 24->12 k3', x: [2, 7, 7, 24], filter: [3, 3, 24, 12], strides: 1, pad: explicit(1, 1, 1, 1) },
  { tag: 'U-Net 4x4 12->24 k3 s2', x: [2, 4, 4, 12], filter: [3, 3, 12, 24], strides: 2, pad: explicit(1, 1, 1, 1) },
  { tag: '4 channels, 9 wide (block of 4 cut to 1)', x: [2, 5, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { tag: '5 channels, asymmetric pad', x: [1, 6, 7, 2], filter: [2, 3, 2, 5], strides: 1, pad: explicit(2, 0, 1, 3) },
  { tag: '7 channels s2 same', x: [2, 9, 9, 5], filter: [3, 3, 5, 7], strides: 2, pad: 'same' },
  { tag: '8 channels k1', x: [2, 5, 6, 13], filter: [1, 1, 13, 8], strides: 1, pad: 'valid' },
  { tag: '10 channels (CIFAR) k3', x: [2, 8, 7, 3], filter: [3, 3, 3, 10], strides: 1, pad: 'same' },
  { tag: '14 channels s1x2', x: [1, 6, 10, 4], filter: [3, 5, 4, 14], strides: [1, 2], pad: explicit(2, 0, 1, 3) },
  { tag: '16 channels k4 s2 pad1 (CNN)', x: [2, 14, 14, 4], filter: [4, 4, 4, 16], strides: 2, pad: explicit(1, 1, 1, 1) },
  { tag: '20 channels k3 valid', x: [2, 6, 5, 6], filter: [3, 3, 6, 20], strides: 1, pad: 'valid' },
  { tag: 'filter wider than the image', x: [2, 3, 3, 2], filter: [5, 5, 2, 6], strides: 1, pad: explicit(2, 2, 2, 2) },
  { tag: 'pad beyond the filter, s3', x: [1, 10, 10, 3], filter: [3, 3, 3, 12], strides: 3, pad: explicit(2, 2, 2, 2) },
  { tag: '3 channels (XNNPACK)', x: [2, 7, 7, 3], filter: [3, 3, 3, 3], strides: 1, pad: 'same' },
  { tag: '9 channels (XNNPACK)', x: [2, 7, 7, 3], filter: [3, 3, 3, 9], strides: 1, pad: 'same' },
  { tag: '32 channels (XNNPACK)', x: [2, 6, 6, 4], filter: [3, 3, 4, 32], strides: 2, pad: 'same' },
];

for (const path of [...LOOP_PATHS, { tag: 'XNNPACK', direct: false, fma: true }]) {
  for (const c of FORWARD_CASES) {
    for (const fused of [false, true]) {
      forwardConv(`[${c.tag}, ${fused ? 'FusedConv2D bias+relu' : 'Conv2D'}, ${path.tag}] should match the cpu backend`, async () => {
        const xv = seededNormal(size(c.x), 5);
        const wv = seededNormal(size(c.filter), 6);
        const bv = seededNormal(c.filter[3], 7);
        await onPath(path, directConvPath, () =>
          assertWasmMatchesCpu(() => {
            const x = tf.tensor4d(xv, c.x);
            const filter = tf.tensor4d(wv, c.filter);
            if (!fused) return tf.conv2d(x, filter, c.strides, c.pad);
            return tf.engine().runKernel(
              tf.FusedConv2D,
              { x, filter, bias: tf.tensor1d(bv), preluActivationWeights: null } as unknown as tf.NamedTensorMap,
              { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1, activation: 'relu' } as unknown as tf.NamedAttrMap,
            ) as tf.Tensor;
          }, KERNEL_TOLERANCE, c.tag),
        );
      });
    }
  }
}

// The module instantiates its loop once per count in this list (assembly/conv2d-direct.ts'
// dispatch); FORWARD_CASES run every one of them on the loop against the cpu backend.
forwardConv('should take exactly the channel counts the module has a loop for', async () => {
  const taken: number[] = [];
  for (let c = 0; c <= 40; c++) if (directConvPixels(c) > 0) taken.push(c);
  assert.equal(taken, [4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24]);
  assert.equal([4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24].map(directConvPixels), [4, 4, 4, 4, 4, 2, 2, 2, 2, 1, 1]);
});

forwardConv('should run the loop for the counts it takes and leave the rest', async () => {
  await initBackend('wasm');
  const backend = tf.backend() as WasmBackend;
  const x = tf.tensor4d(seededNormal(2 * 5 * 5 * 3, 8), [2, 5, 5, 3]);
  const geometry = { strideHeight: 1, strideWidth: 1, top: 1, left: 1, outHeight: 5, outWidth: 5 };
  const run = (channels: number) => {
    const w = tf.tensor4d(seededNormal(27 * channels, 9), [3, 3, 3, channels]);
    try {
      const out = directConv2D(backend, x, w, null, geometry, false);
      if (out === undefined) return undefined;
      const t = tf.engine().makeTensorFromTensorInfo(out);
      const expected = tf.conv2d(x, w, 1, 'same');
      assertClose(t.dataSync(), expected.dataSync(), KERNEL_TOLERANCE, `channels ${channels}`);
      tf.dispose([t, expected]);
      return true;
    } finally {
      w.dispose();
    }
  };
  assert.is(run(6), true);
  assert.is(run(24), true);
  assert.is(run(9), undefined);
  assert.is(run(32), undefined);
  x.dispose();
});

forwardConv.run();

// ---

const inputGrad = suite('Conv2DBackpropInput');

// Its phase convolutions run on the Conv2D kernel: the direct loop where the input has a channel
// count it takes (the U-Net's 6, 12, 24 and the 4, 5, 16 cases above), XNNPACK otherwise.
const INPUT_GRAD_CASES: ConvCase[] = [
  ...CONV_CASES,
  { tag: 'U-Net 14x14 6->6 k3 pad1', x: [2, 14, 14, 6], filter: [3, 3, 6, 6], strides: 1, pad: explicit(1, 1, 1, 1) },
  { tag: 'U-Net 7x7 12->24 k3 s2 pad1', x: [2, 7, 7, 12], filter: [3, 3, 12, 24], strides: 2, pad: explicit(1, 1, 1, 1) },
];
for (const path of [LOOP_PATHS[0], { tag: 'XNNPACK', direct: false, fma: true }]) {
  for (const c of INPUT_GRAD_CASES) {
    inputGrad(`[${c.tag}, ${path.tag}] should match the cpu backend`, async () => {
      const dyShape = outShape(c);
      const dyv = seededNormal(size(dyShape), 3);
      const wv = seededNormal(size(c.filter), 4);
      await onPath(path, directConvPath, () =>
        assertWasmMatchesCpu(
          () =>
            tf.engine().runKernel(
              tf.Conv2DBackpropInput,
              { dy: tf.tensor4d(dyv, dyShape), filter: tf.tensor4d(wv, c.filter) },
              { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x } as unknown as tf.NamedAttrMap,
            ) as tf.Tensor,
          KERNEL_TOLERANCE,
          c.tag,
        ),
      );
    });
  }
}

inputGrad.run();

// ---

const matMul = suite('BatchMatMul');

const MATMUL_CASES: Array<{ tag: string; a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
  { tag: 'plain', a: [5, 7], b: [7, 3], ta: false, tb: false },
  { tag: 'transposeA', a: [7, 5], b: [7, 3], ta: true, tb: false },
  { tag: 'transposeB', a: [5, 7], b: [3, 7], ta: false, tb: true },
  { tag: 'both', a: [7, 5], b: [3, 7], ta: true, tb: true },
  { tag: 'batched transposeA', a: [3, 6, 4], b: [3, 6, 5], ta: true, tb: false },
  { tag: 'broadcast batch transposeB', a: [1, 4, 6], b: [3, 5, 6], ta: false, tb: true },
  { tag: 'MLP gradient size', a: [64, 784], b: [64, 255], ta: true, tb: false },
  { tag: 'outer product, transposeB', a: [8, 10, 1], b: [8, 255, 1], ta: false, tb: true },
  { tag: 'Aᵀ·v, batched', a: [8, 10, 78], b: [8, 10, 1], ta: true, tb: false },
  { tag: 'Aᵀ·v, broadcast batch', a: [1, 10, 78], b: [3, 10, 1], ta: true, tb: false },
  { tag: 'u·Bᵀ, batched', a: [8, 1, 30], b: [8, 12, 30], ta: false, tb: true },
  { tag: 'u·Bᵀ, 2-D', a: [1, 30], b: [12, 30], ta: false, tb: true },
  { tag: 'outer product, transposeA broadcast', a: [1, 1, 6], b: [4, 1, 5], ta: true, tb: false },
  { tag: 'outer product, plain 2-D', a: [6, 1], b: [1, 5], ta: false, tb: false },
  { tag: 'outer product, transposeA batched (loop; 255 = 63 vectors + 3)', a: [7, 1, 4], b: [7, 1, 255], ta: true, tb: false },
  { tag: 'row times matrix (bounds rows plan; loop)', a: [9, 1, 4], b: [9, 4, 255], ta: false, tb: false },
  { tag: 'row times matrix, rank 4, k 25, n 6', a: [2, 3, 1, 25], b: [2, 3, 25, 6], ta: false, tb: false },
  { tag: 'row times matrix, k 1, n 2', a: [5, 1, 1], b: [5, 1, 2], ta: false, tb: false },
  { tag: 'row times matrix, broadcast batch (stock)', a: [1, 1, 4], b: [3, 4, 7], ta: false, tb: false },
  { tag: 'row times matrix, k 65 (stock)', a: [2, 1, 65], b: [2, 65, 3], ta: false, tb: false },
];

for (const c of MATMUL_CASES) {
  matMul(`[${c.tag}] should match the cpu backend`, async () => {
    const av = seededNormal(size(c.a), 5);
    const bv = seededNormal(size(c.b), 6);
    await assertWasmMatchesCpu(
      () =>
        tf.engine().runKernel(
          tf.BatchMatMul,
          { a: tf.tensor(av, c.a), b: tf.tensor(bv, c.b) },
          { transposeA: c.ta, transposeB: c.tb },
        ) as tf.Tensor,
      KERNEL_TOLERANCE,
      c.tag,
    );
  });
}

// Unbatched Aᵀ·B runs patchcert's tiled loop: tiles of 8 columns of A × 4 of B, passes of 128
// rows. These shapes cut both tiles short (k mod 8 = 1 … 7, n mod 4 = 1 … 3), cross the pass
// boundary and include the classifier's weight gradients; each on the loop in both builds and on
// transpose + XNNPACK.
const TRANSPOSE_A_CASES: Array<{ tag: string; a: number[]; b: number[] }> = [
  { tag: 'dense weight grad 2560×255ᵀ·2560×100 (classifier layer 2)', a: [2560, 255], b: [2560, 100] },
  { tag: 'n 10 (last layer)', a: [300, 100], b: [300, 10] },
  { tag: 'k 8, n 4 (whole tiles), m 128 (one pass)', a: [128, 8], b: [128, 4] },
  { tag: 'k 1, n 3, m 129 (two passes)', a: [129, 1], b: [129, 3] },
  { tag: 'k 13, n 7', a: [37, 13], b: [37, 7] },
  { tag: 'k 6, n 2, batch of one', a: [1, 200, 6], b: [1, 200, 2] },
];

for (const path of [...LOOP_PATHS, { tag: 'transpose + XNNPACK', direct: false, fma: true }]) {
  for (const c of TRANSPOSE_A_CASES) {
    matMul(`[Aᵀ·B ${c.tag}, ${path.tag}] should match the cpu backend`, async () => {
      const av = seededNormal(size(c.a), 7);
      const bv = seededNormal(size(c.b), 8);
      await onPath(path, transposeAPath, () =>
        assertWasmMatchesCpu(
          () => tf.engine().runKernel(tf.BatchMatMul, { a: tf.tensor(av, c.a), b: tf.tensor(bv, c.b) }, { transposeA: true, transposeB: false }) as tf.Tensor,
          KERNEL_TOLERANCE,
          c.tag,
        ),
      );
    });
  }
}

matMul('should keep working after the wasm backend is started again', async () => {
  await initBackend('wasm');
  await initBackend('cpu');
  await initBackend('wasm');
  const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[1, 0], [0, 1]]), true, false));
  assert.equal(Array.from(y.dataSync()), [1, 3, 2, 4]);
  y.dispose();
});

matMul.run();

// ---

const segmentSum = suite('UnsortedSegmentSum');

segmentSum('should sum rows by segment and drop ids out of range', async () => {
  await initBackend('wasm');
  const y = tf.tidy(() =>
    tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]), tf.tensor1d([2, 0, 2, -1, 7], 'int32'), 3),
  );
  assert.equal(y.shape, [3, 2]);
  assert.equal(Array.from(y.dataSync()), [3, 4, 0, 0, 6, 8]);
  y.dispose();
});

segmentSum('should match the cpu backend for the gradient of gather', async () => {
  const xv = seededNormal(40 * 6, 7);
  const idx = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 40);
  await assertWasmMatchesCpu(
    () => {
      const x = tf.tensor2d(xv, [40, 6]);
      const w = tf.tensor2d(seededNormal(100 * 6, 8), [100, 6]);
      return tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor1d(idx, 'int32')).mul(w).sum())(x);
    },
    KERNEL_TOLERANCE,
    'gather grad',
  );
});

segmentSum('should match the cpu backend for rows of 255 floats (63 vectors and a tail of 3) and of 1', async () => {
  for (const row of [255, 1]) {
    const xv = seededNormal(50 * row, 9);
    const ids = Int32Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? -1 : (i * 5) % 11));
    await assertWasmMatchesCpu(
      () => tf.unsortedSegmentSum(tf.tensor2d(xv, [50, row]), tf.tensor1d(ids, 'int32'), 12),
      KERNEL_TOLERANCE,
      `row ${row}`,
    );
  }
});

segmentSum('should throw SHAPE_MISMATCH when segmentIds is not a prefix of the data shape', async () => {
  await initBackend('wasm');
  const x = tf.zeros([4, 2]);
  const ids = tf.tensor1d([0, 1, 0], 'int32');
  try {
    tf.engine().runKernel(tf.UnsortedSegmentSum, { x, segmentIds: ids }, { numSegments: 2 });
    assert.unreachable('3 ids for 4 rows must be refused');
  } catch (e) {
    assert.instance(e, PatchcertError);
    assert.is((e as PatchcertError).code, 'SHAPE_MISMATCH');
  } finally {
    tf.dispose([x, ids]);
  }
});

segmentSum('should sum int32 data', async () => {
  await initBackend('wasm');
  const y = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([1, 1, 0], 'int32'), 2));
  assert.is(y.dtype, 'int32');
  assert.equal(Array.from(y.dataSync()), [3, 3]);
  y.dispose();
});

segmentSum.run();

// ---

/** A pooling case: input shape, window, strides, padding. */
interface PoolCase {
  tag: string;
  x: [number, number, number, number];
  filter: [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
}

/** One test per case: the gradient of Σ w·pool(x) on wasm against the cpu backend. */
function poolGradTests(s: ReturnType<typeof suite>, pool: typeof tf.avgPool, cases: PoolCase[], seed: number): void {
  for (const c of cases) {
    s(`[${c.tag}] should match the cpu backend`, async () => {
      const xv = seededNormal(size(c.x), seed);
      const outs = tf.tidy(() => pool(tf.zeros(c.x) as tf.Tensor4D, c.filter, c.strides, c.pad).shape);
      const wv = seededNormal(size(outs), seed + 1);
      await assertWasmMatchesCpu(
        () => {
          const w = tf.tensor(wv, outs);
          return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(pool(t as tf.Tensor4D, c.filter, c.strides, c.pad), w)))(tf.tensor(xv, c.x));
        },
        KERNEL_TOLERANCE,
        c.tag,
      );
    });
  }
}

const avgPoolGrad = suite('AvgPoolGrad');

const POOL_CASES: PoolCase[] = [
  { tag: '2x2 s1 valid (patchcert window sums)', x: [2, 28, 28, 7], filter: [2, 2], strides: 1, pad: 'valid' },
  { tag: '5x5 s1 valid', x: [2, 12, 12, 3], filter: [5, 5], strides: 1, pad: 'valid' },
  { tag: '3x2 s1 valid, non-square', x: [1, 9, 7, 4], filter: [3, 2], strides: 1, pad: 'valid' },
  { tag: '3x3 s1 same', x: [2, 8, 8, 3], filter: [3, 3], strides: 1, pad: 'same' },
  { tag: '2x2 s1 pad 1', x: [1, 6, 6, 2], filter: [2, 2], strides: 1, pad: 1 },
  { tag: '2x2 s2 valid (stock fallback)', x: [2, 8, 8, 3], filter: [2, 2], strides: 2, pad: 'valid' },
];

poolGradTests(avgPoolGrad, tf.avgPool, POOL_CASES, 31);

avgPoolGrad('should give each pixel the mean of the windows covering it', async () => {
  await initBackend('wasm');
  const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.sum(tf.avgPool(t as tf.Tensor4D, 2, 1, 'valid')))(tf.zeros([1, 3, 3, 1])));
  // Corners are in one 2×2 window, edges in two, the center in four; each window weighs 1/4.
  assert.equal(Array.from(g.dataSync()), [0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25]);
  g.dispose();
});

avgPoolGrad.run();

// ---

const maxPoolGrad = suite('MaxPoolGrad');

const MAX_POOL_CASES: PoolCase[] = [
  { tag: 'U-Net 3x3 s2 pad 1', x: [3, 14, 14, 6], filter: [3, 3], strides: 2, pad: 1 },
  { tag: '2x2 s2 valid', x: [2, 8, 8, 3], filter: [2, 2], strides: 2, pad: 'valid' },
  { tag: '3x2 s1x2 same, odd sizes, 5 channels', x: [2, 7, 9, 5], filter: [3, 2], strides: [1, 2], pad: 'same' },
  { tag: '3x3 s1 same, overlapping windows', x: [1, 6, 5, 2], filter: [3, 3], strides: 1, pad: 'same' },
];

poolGradTests(maxPoolGrad, tf.maxPool, MAX_POOL_CASES, 51);

maxPoolGrad('should send each dy to the first maximum of its window, padding never', async () => {
  // Ties: a constant map, windows 2×2 stride 1 'valid' on 3×3; every window's first pixel is
  // its top-left one. All −∞ (as padding would read): nothing is passed.
  for (const backend of ['cpu', 'wasm']) {
    await initBackend(backend);
    const g = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 2, 1, 'valid')))(tf.ones([1, 3, 3, 1])).dataSync()));
    assert.equal(g, [1, 1, 0, 1, 1, 0, 0, 0, 0], backend);
    const none = tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => tf.sum(tf.maxPool(t as tf.Tensor4D, 3, 2, 1)))(tf.fill([1, 3, 3, 1], -Infinity)).dataSync()));
    assert.equal(none, new Array(9).fill(0), backend);
  }
});

maxPoolGrad.run();

// ---

const resizeGrad = suite('ResizeBilinearGrad');

for (const c of [
  { tag: 'U-Net 14->28 aligned, 6 channels', x: [2, 14, 14, 6], size: [28, 28], align: true },
  { tag: 'U-Net 2->4 aligned, 24 channels', x: [3, 2, 2, 24], size: [4, 4], align: true },
  { tag: '7->14 aligned, non-square 5x7, 3 channels', x: [2, 5, 7, 3], size: [9, 14], align: true },
  { tag: '4->7 unaligned, 5 channels', x: [2, 4, 4, 5], size: [7, 7], align: false },
  { tag: '6->3 aligned (downsampling)', x: [1, 6, 6, 4], size: [3, 3], align: true },
  { tag: 'to one row (aligned, out 1)', x: [1, 3, 4, 2], size: [1, 4], align: true },
] as Array<{ tag: string; x: [number, number, number, number]; size: [number, number]; align: boolean }>) {
  resizeGrad(`[${c.tag}] should match a plain loop${c.x[1] === c.x[2] ? ' and the cpu backend' : ''}`, async () => {
    const xv = seededNormal(size(c.x), 61);
    const [b, h, w, ch] = c.x;
    const [oh, ow] = c.size;
    const outs = [b, oh, ow, ch];
    const wv = seededNormal(size(outs), 62);
    const grad = () => {
      const wt = tf.tensor(wv, outs);
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeBilinear(t as tf.Tensor4D, c.size, c.align), wt)))(tf.tensor(xv, c.x));
    };
    // d/dx Σ w·resize(x): every output pixel's weight goes to its four source pixels with the lerp
    // weights (source = out · (in − 1)/(out − 1) aligned, out · in/out otherwise).
    const scale = (i: number, o: number) => (c.align && o > 1 ? (i - 1) / (o - 1) : i / o);
    const want = new Float64Array(size(c.x));
    for (let n = 0; n < b; n++) {
      for (let r = 0; r < oh; r++) {
        const fy = r * scale(h, oh);
        const [y0, y1, ly] = [Math.floor(fy), Math.min(Math.ceil(fy), h - 1), fy - Math.floor(fy)];
        for (let q = 0; q < ow; q++) {
          const fx = q * scale(w, ow);
          const [x0, x1, lx] = [Math.floor(fx), Math.min(Math.ceil(fx), w - 1), fx - Math.floor(fx)];
          for (let k = 0; k < ch; k++) {
            const g = wv[((n * oh + r) * ow + q) * ch + k]!;
            want[((n * h + y0) * w + x0) * ch + k]! += g * (1 - ly) * (1 - lx);
            want[((n * h + y0) * w + x1) * ch + k]! += g * (1 - ly) * lx;
            want[((n * h + y1) * w + x0) * ch + k]! += g * ly * (1 - lx);
            want[((n * h + y1) * w + x1) * ch + k]! += g * ly * lx;
          }
        }
      }
    }
    await initBackend('wasm');
    const got = tf.tidy(() => grad().dataSync());
    assertClose(got, want, KERNEL_TOLERANCE, `${c.tag}: wasm vs plain loop`);
    // tfjs-backend-cpu's own gradient swaps height and width in its output shape, so it is a
    // second reference only for square inputs.
    if (h === w) await assertWasmMatchesCpu(grad, KERNEL_TOLERANCE, c.tag);
  });
}

resizeGrad.run();

// ---

const channelOps = suite('Add/Sub/Multiply/RealDiv with a per-channel operand');

for (const c of [
  { tag: 'BatchNorm [4, 14, 14, 6] · [6]', big: [4, 14, 14, 6], small: [6] },
  { tag: '[5, 3] · [3]: a tail of 3 floats', big: [5, 3], small: [3] },
  { tag: '[2, 7, 7, 24] · [1, 1, 1, 24]', big: [2, 7, 7, 24], small: [1, 1, 1, 24] },
  { tag: '[3, 5, 4] · [1, 4]', big: [3, 5, 4], small: [1, 4] },
  { tag: '[9, 1] · [1]', big: [9, 1], small: [1] },
  { tag: '[2, 3, 10] · [10] (period 20)', big: [2, 3, 10], small: [10] },
]) {
  channelOps(`[${c.tag}] should match the cpu backend in both orders, gradients included`, async () => {
    const bv = seededNormal(size(c.big), 71);
    // Away from zero, so division is well conditioned.
    const sv = Float32Array.from(seededNormal(size(c.small), 72), (v) => (v >= 0 ? 0.5 + v : v - 0.5));
    await assertWasmMatchesCpu(
      () => {
        const big = tf.tensor(bv, c.big);
        const small = tf.tensor(sv, c.small);
        const out: tf.Tensor[] = [];
        for (const op of [tf.add, tf.sub, tf.mul, tf.div]) {
          out.push(op(big, small), op(small, big));
          const w = tf.tensor(seededNormal(size(c.big), 73), c.big);
          const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(op(x, y), w)))([big, small]);
          out.push(ga!, gb!);
        }
        return out;
      },
      KERNEL_TOLERANCE,
      c.tag,
    );
  });
}

channelOps.run();

// ---

const gather = suite('GatherV2');

for (const c of [
  { tag: 'rows of a matrix (patchcert, 17-float rows copied by set)', x: [40, 17], idx: [[3, 0, 39, 3, 12]] as number[][], axis: 0 },
  { tag: 'axis 0 of a 3-D tensor, 2-D indices (12-float rows copied by a loop)', x: [6, 4, 3], idx: [[5, 1], [0, 0]], axis: 0 },
  { tag: 'axis 1 (stock fallback)', x: [5, 7], idx: [[6, 2, 2]], axis: 1 },
]) {
  gather(`[${c.tag}] should match the cpu backend, gradient included`, async () => {
    const xv = seededNormal(size(c.x), 41);
    const flat = c.idx.flat();
    const idxShape = c.idx.length === 1 ? [flat.length] : [c.idx.length, c.idx[0]!.length];
    await assertWasmMatchesCpu(
      () => {
        const x = tf.tensor(xv, c.x);
        const ids = tf.tensor(flat, idxShape, 'int32');
        const y = tf.gather(x, ids, c.axis);
        const wv = tf.tensor(seededNormal(y.size, 42), y.shape);
        return [y, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids, c.axis), wv)))(x)];
      },
      KERNEL_TOLERANCE,
      c.tag,
    );
  });
}

gather('should throw INVALID_ARGUMENT for an index out of range', async () => {
  await initBackend('wasm');
  const x = tf.zeros([3, 2]);
  const ids = tf.tensor1d([0, 3], 'int32');
  try {
    tf.gather(x, ids);
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, PatchcertError);
    assert.is((err as PatchcertError).code, 'INVALID_ARGUMENT');
  } finally {
    tf.dispose([x, ids]);
  }
});

gather.run();

// ---

const identity = suite('Identity');

identity('should share the data of its input, which outlives the input', async () => {
  await initBackend('wasm');
  const buffers = tf.memory().numDataBuffers;
  const a = tf.tensor2d([[1, 2], [3, 4]]);
  const b = tf.clone(a);
  assert.ok(b.dataId === a.dataId, 'one buffer for both');
  a.dispose();
  assert.equal(Array.from(b.dataSync()), [1, 2, 3, 4]);
  assert.equal(b.shape, [2, 2]);
  b.dispose();
  assert.is(tf.memory().numDataBuffers, buffers, 'the buffer is freed with its last tensor');
});

identity('should leave gradients through saved tensors unchanged', async () => {
  const xv = seededNormal(30, 51);
  await assertWasmMatchesCpu(() => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), tf.square(t))))(tf.tensor(xv, [5, 6])), KERNEL_TOLERANCE, 'grad');
});

identity.run();

// ---

const sliceSuite = suite('Slice');

for (const c of [
  { tag: 'middle axis of 3-D (patchcert passes)', x: [4, 30, 7], begin: [0, 11, 0], size: [4, 9, 7] },
  { tag: 'last axis of 2-D', x: [12, 10], begin: [0, 3], size: [12, 1] },
  { tag: 'every axis of 4-D', x: [3, 6, 5, 4], begin: [1, 2, 1, 1], size: [2, 3, 3, 2] },
  { tag: 'size -1 and whole tensor', x: [5, 6], begin: [2, 0], size: [-1, -1] },
  { tag: 'rank 1', x: [20], begin: [4], size: [9] },
  { tag: 'first axis only (contiguous)', x: [8, 3, 2], begin: [3, 0, 0], size: [4, 3, 2] },
]) {
  sliceSuite(`[${c.tag}] should match the cpu backend, gradient included`, async () => {
    const xv = seededNormal(size(c.x), 61);
    await assertWasmMatchesCpu(
      () => {
        const x = tf.tensor(xv, c.x);
        const y = tf.slice(x, c.begin, c.size);
        const w = tf.tensor(seededNormal(y.size, 62), y.shape);
        return [y, tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.slice(t, c.begin, c.size), w)))(x)];
      },
      KERNEL_TOLERANCE,
      c.tag,
    );
  });
}

sliceSuite('should slice int32 data and give empty slices', async () => {
  await initBackend('wasm');
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32');
  const y = tf.slice(x, [0, 1], [2, 2]);
  assert.is(y.dtype, 'int32');
  assert.equal(Array.from(y.dataSync()), [2, 3, 5, 6]);
  const e = tf.slice(x, [1, 0], [0, 3]);
  assert.equal(e.shape, [0, 3]);
  tf.dispose([x, y, e]);
});

sliceSuite.run();

// ---

const sumSuite = suite('Sum');

const SUM_CASES: Array<{ shape: number[]; axis: number | number[]; keepDims?: boolean }> = [
  { shape: [4, 28, 28, 6], axis: [0, 1, 2] },
  { shape: [3, 5, 5, 6], axis: [0, 1, 2], keepDims: true },
  { shape: [7, 1], axis: 0 },
  { shape: [5, 3], axis: [0] },
  { shape: [2, 9, 7], axis: [1, 0] },
  { shape: [6, 8], axis: 0 },
  { shape: [4, 3, 13], axis: [-3, -2] },
  { shape: [10, 4, 8], axis: 0 },
  { shape: [5, 32], axis: 0 },
  { shape: [5, 33], axis: 0 },
  { shape: [3, 4, 5], axis: 1 },
  { shape: [3, 4, 5], axis: [0, 2] },
  { shape: [3, 4, 5], axis: [0, 1, 2] },
  { shape: [1, 6], axis: 0 },
];

for (const c of SUM_CASES) {
  sumSuite(`[${JSON.stringify(c.shape)} axis ${JSON.stringify(c.axis)}${c.keepDims ? ' keepDims' : ''}] should match the cpu backend`, async () => {
    const v = seededNormal(size(c.shape), 5);
    await assertWasmMatchesCpu(() => tf.sum(tf.tensor(v, c.shape), c.axis, c.keepDims ?? false), KERNEL_TOLERANCE, 'sum');
  });
}

sumSuite('should leave int32 and empty reductions to the stock kernel', async () => {
  await assertWasmMatchesCpu(() => tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0), KERNEL_TOLERANCE, 'int32');
  await assertWasmMatchesCpu(() => tf.sum(tf.zeros([0, 4]), 0), KERNEL_TOLERANCE, 'empty rows');
});

sumSuite.run();

// ---

const register = suite('registerWasmKernels');

register('should register every kernel once and keep the same configs when called again', async () => {
  await initBackend('wasm');
  const names = [tf.BatchMatMul, tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput, tf.UnsortedSegmentSum];
  const first = names.map((n) => tf.getKernel(n, 'wasm'));
  assert.ok(first.every((k) => k !== undefined));
  registerWasmKernels();
  registerWasmKernels();
  assert.equal(names.map((n) => tf.getKernel(n, 'wasm')), first);
});

register.run();

// ---

const restore = suite('restoreStockWasmKernels');

restore('should put the stock replaced kernels back, keep the added ones, and give the same products', async () => {
  await initBackend('wasm');
  const patched = tf.getKernel(tf.BatchMatMul, 'wasm');
  const filterGradKernel = tf.getKernel(tf.Conv2DBackpropFilter, 'wasm');
  const a = tf.tensor2d(seededNormal(6 * 4, 21), [6, 4]);
  const b = tf.tensor2d(seededNormal(6 * 3, 22), [6, 3]);
  const viaPatched = tf.matMul(a, b, true, false);
  restoreStockWasmKernels();
  try {
    assert.is.not(tf.getKernel(tf.BatchMatMul, 'wasm'), patched);
    assert.is(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm'), filterGradKernel);
    const viaStock = tf.matMul(a, b, true, false);
    assertClose(viaPatched.dataSync(), viaStock.dataSync(), KERNEL_TOLERANCE, 'stock vs patched');
    tf.dispose(viaStock);
  } finally {
    registerWasmKernels();
  }
  assert.is(tf.getKernel(tf.BatchMatMul, 'wasm'), patched);
  tf.dispose([a, b, viaPatched]);
});

restore.run();
