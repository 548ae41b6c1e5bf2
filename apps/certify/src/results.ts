import type { ThreatSpec } from './internal/threat-spec.js';

/** Version tag of the JSON results file; bumped when a field changes meaning. */
export const RESULTS_SCHEMA = 'patchcert-certify/1';

/** One image's verdict under one threat model. */
export interface ThreatVerdict {
  /** Every margin lower bound is ≥ 0 at every location of the threat. */
  certified: boolean;
  /** The smallest margin lower bound z_y − z_j over locations and classes j ≠ y. */
  worstMargin: number;
  /** `[row, col]` origin of the location holding the worst margin; null for sparse threats. */
  worstLocation: [number, number] | null;
  /** The class j whose margin is worst. */
  worstClass: number;
}

/** One test image's results. */
export interface ImageResult {
  /** Position of the image in the dataset's test split. */
  index: number;
  label: number;
  /** argmax of the clean logits. */
  prediction: number;
  correct: boolean;
  /** Keyed by {@link ThreatSpec.id}. */
  threats: Record<string, ThreatVerdict>;
}

/** An image kept for the report: its pixels and the worst margin per patch location. */
export interface ReportSample {
  index: number;
  label: number;
  prediction: number;
  certified: boolean;
  /** Threat id of the heatmap. */
  threat: string;
  /** `[height, width, channels]` of `pixels`. */
  shape: [number, number, number];
  /** The uint8 image, base64. */
  pixels: string;
  /** Heatmap grid size: rows × cols of patch origins. */
  rows: number;
  cols: number;
  /** Row-major, rows·cols values: min over classes j ≠ y of the margin lower bound at each location. */
  worstMarginMap: number[];
}

/** Certified and clean accuracy of one threat over the images done so far. */
export interface ThreatSummary {
  threat: string;
  label: string;
  images: number;
  clean: number;
  certified: number;
}

/** What one invocation of the CLI did (a resumed run has several). */
export interface RunTiming {
  startedAt: string;
  /** Wall-clock seconds of the whole run, start-up included. */
  seconds: number;
  /** Seconds spent starting backends and loading the model (in every worker, in parallel). */
  startupSeconds: number;
  images: number;
  /** Certification throughput: images over the seconds after start-up. */
  imagesPerSecond: number;
  workers: number;
}

/** The JSON file written by `certify --json`. */
export interface CertifyResults {
  schema: typeof RESULTS_SCHEMA;
  /** True until every selected image has been certified (interrupted or still running). */
  partial: boolean;
  updatedAt: string;
  model: {
    dir: string;
    metadata: Record<string, unknown> & { dataset: string; architecture: string; inputShape: number[]; classNames: string[] };
    parameters: number;
  };
  /** `total`: images selected (all, the first `limit`, or a `sample` drawn with `seed`). */
  dataset: { name: string; split: 'test'; total: number; limit: number | null; sample?: number | null; seed?: number };
  /** The CLI arguments of the latest run. */
  command?: string[];
  /** The backend line of `describeBackend()`. */
  backend: string;
  threats: ThreatSpec[];
  /** Shape stencils left out: not buildable at that pixel count, or larger than the image. */
  skipped: Array<{ threat: string; reason: string }>;
  /** Threat of the heatmaps (the first patch or shape threat), or null when only sparse. */
  heatmapThreat: string | null;
  /** Totals over every run; `imagesPerSecond` excludes start-up. */
  timing: { seconds: number; images: number; imagesPerSecond: number; runs: RunTiming[] };
  summary: ThreatSummary[];
  images: ImageResult[];
  samples: ReportSample[];
}
