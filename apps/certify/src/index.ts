/**
 * @packageDocumentation
 * `certify`: the patchcert CLI that certifies saved models against patch, shape and sparse threat
 * models (with IBP, and with derandomized smoothing or random ablation on ablation classifiers),
 * writes per-image JSON results and a self-contained HTML report. The CLI lives in `main.ts`;
 * this entry point exposes the same pieces to scripts and tests.
 */

// #region running
export { runCertify, defaultWorkers } from './run-certify.js';
export type { CertifyRunOptions, CertifyRunOutcome } from './run-certify.js';
// #endregion

// #region results
export { RESULTS_SCHEMA } from './results.js';
export type { CertifyResults, ImageResult, ThreatVerdict, ThreatSummary, ReportSample, RunTiming, MethodResult, SmoothedVerdict } from './results.js';
export { readResults, writeResults } from './results-file.js';
export { summarize, resultTables, methodTable, methodHeading, formatTable, certifiedUnder, correctUnder } from './summary.js';
export type { Table } from './summary.js';
export { buildReportHtml } from './report-html.js';
// #endregion

// #region methods
export { parseMethodList, methodThreatId, imageSeed, CERTIFY_METHODS, DEFAULT_RS_SAMPLING } from './internal/method-spec.js';
export type { CertifyMethod, MethodPlan, RandomAblationSampling } from './internal/method-spec.js';
// #endregion

// #region threats
export { parsePatchList, parseShapeList, parseSparseList, SHAPE_NAMES } from './internal/threat-spec.js';
export type { ThreatSpec, ShapeName } from './internal/threat-spec.js';
// #endregion
