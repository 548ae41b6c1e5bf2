import { RESULTS_SCHEMA, type CertifyResults, type ImageResult, type ReportSample } from '../../src/results.js';
import { patchSpec, sparseSpec } from '../../src/internal/threat-spec.js';
import { summarize } from '../../src/summary.js';

/** A synthetic results file: 10 images of 6×6 gray pixels, a 2×2 patch and sparse k=1. */
export function syntheticResults(partial = false): CertifyResults {
  const threats = [patchSpec(2, 2), sparseSpec(1)];
  const images: ImageResult[] = Array.from({ length: 10 }, (_, i) => ({
    index: i,
    label: i % 3,
    prediction: i === 9 ? 0 : i % 3,
    correct: i !== 9,
    threats: {
      'patch:2x2': { certified: i < 4, worstMargin: i < 4 ? 0.5 + i : -1 - i, worstLocation: [i % 5, 4 - (i % 5)], worstClass: (i + 1) % 3 },
      'sparse:1': { certified: i < 7, worstMargin: i < 7 ? 1 : -0.25, worstLocation: null, worstClass: (i + 2) % 3 },
    },
  }));
  const samples: ReportSample[] = [0, 1, 5, 6].map((i) => ({
    index: i,
    label: images[i]!.label,
    prediction: images[i]!.prediction,
    certified: i < 4,
    threat: 'patch:2x2',
    shape: [6, 6, 1],
    pixels: Buffer.from(Uint8Array.from({ length: 36 }, (_, k) => (k * 7 + i * 13) % 256)).toString('base64'),
    rows: 5,
    cols: 5,
    worstMarginMap: Array.from({ length: 25 }, (_, k) => (i < 4 ? 0.1 + k / 10 : k / 10 - 2)),
  }));
  return {
    schema: RESULTS_SCHEMA,
    partial,
    updatedAt: '2026-01-01T00:00:00.000Z',
    model: {
      dir: '/models/toy',
      metadata: { dataset: 'mnist', architecture: 'mlp', inputShape: [6, 6, 1], classNames: ['zero', 'one', 'two'] },
      parameters: 123,
    },
    dataset: { name: 'mnist', split: 'test', total: partial ? 20 : 10, limit: null },
    backend: 'backend: wasm (tfjs wasm 4.22.0) simd=on threads=1',
    threats,
    skipped: [],
    heatmapThreat: 'patch:2x2',
    timing: { seconds: 2, images: 10, imagesPerSecond: 5, runs: [{ startedAt: '2026-01-01T00:00:00.000Z', seconds: 2, startupSeconds: 0, images: 10, imagesPerSecond: 5, workers: 1 }] },
    summary: summarize(threats, images),
    images,
    samples,
  };
}
