import type { AblationMode } from '@patchcert/ablation';
import type { ThreatSpec } from './internal/threat-spec.js';
import type { CertifyMethod, RandomAblationSampling } from './internal/method-spec.js';

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

/** One image's smoothed (ablation) classifier result: its prediction and verdict per threat. */
export interface SmoothedVerdict {
  /** The smoothed prediction; −1 when random ablation abstains (p_A lower bound ≤ 1/2). */
  prediction: number;
  correct: boolean;
  /** Keyed by {@link ThreatSpec.id}: no threat of that kind can change the (correct) prediction. */
  certified: Record<string, boolean>;
  /** Derandomized: votes per class over the bands (abstaining bands count for none). */
  votes?: number[];
  /** Random ablation: Clopper–Pearson lower bound on the top class's probability. */
  pALower?: number;
  /** Random ablation: the largest certified number of changed pixels (−1 on abstention). */
  maxCertifiedK?: number;
}

/** One test image's results. */
export interface ImageResult {
  /** Position of the image in the dataset's test split. */
  index: number;
  label: number;
  /** argmax of the IBP model's clean logits; −1 when `ibp` is not among the methods. */
  prediction: number;
  correct: boolean;
  /** IBP verdicts, keyed by {@link ThreatSpec.id} (empty when `ibp` is not among the methods). */
  threats: Record<string, ThreatVerdict>;
  /** Ablation methods' results (absent when only IBP ran). */
  ablation?: Partial<Record<Exclude<CertifyMethod, 'ibp'>, SmoothedVerdict>>;
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

/** Certified and clean accuracy of one threat under one method over the images done so far. */
export interface ThreatSummary {
  /** The threat id for IBP, `<method>:<threat id>` for the others (`derandomized:patch:5x5`). */
  threat: string;
  label: string;
  images: number;
  /** Clean accuracy of the method's classifier (the smoothed one for ablation methods). */
  clean: number;
  certified: number;
  /** @defaultValue 'ibp' (absent in files written before methods existed) */
  method?: CertifyMethod;
  /** The {@link ThreatSpec.id} this row certifies. */
  baseThreat?: string;
}

/** What one certification method ran with and what it cost, over every run of a results file. */
export interface MethodResult {
  method: CertifyMethod;
  modelDir: string;
  architecture: string;
  parameters: number;
  /** The ablation the base classifier was trained with (ablation methods). */
  mode?: AblationMode;
  /** Random ablation's sampling settings. */
  sampling?: RandomAblationSampling;
  /** Ids of the threats this method certifies. */
  threats: string[];
  /** `interval`: IBP bound passes (1 clean pass + the locations of every threat); `forward`: base-classifier forward passes. */
  passKind: 'interval' | 'forward';
  passesPerImage: number;
  /** Images this method certified (all runs). */
  images: number;
  /** Thread-seconds this method spent on them (summed over workers and runs). */
  seconds: number;
  /** `images / seconds`: the method's throughput on one thread. */
  imagesPerSecond: number;
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
  /** The methods run, with their models and cost (absent in files written before methods existed: IBP only). */
  methods?: MethodResult[];
  /** Shape stencils left out: not buildable at that pixel count, or larger than the image. */
  skipped: Array<{ threat: string; reason: string }>;
  /** Threat of the heatmaps (the first patch or shape threat certified by IBP), or null when none. */
  heatmapThreat: string | null;
  /** Totals over every run; `imagesPerSecond` excludes start-up. */
  timing: { seconds: number; images: number; imagesPerSecond: number; runs: RunTiming[] };
  summary: ThreatSummary[];
  images: ImageResult[];
  samples: ReportSample[];
}
