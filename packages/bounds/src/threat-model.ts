import type { PatchThreat } from './patch-threat.js';
import type { SparseThreat } from './sparse-threat.js';

/** Every threat model `certify` and the margin functions accept. */
export type ThreatModel = PatchThreat | SparseThreat;
