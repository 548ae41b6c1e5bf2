import { tf } from '@patchcert/backend';
import type { ThreatModel } from '../threat-model.js';
import type { PatchThreat } from '../patch-threat.js';
import type { SparseThreat } from '../sparse-threat.js';
import { propagateCenterRadius } from '../propagate-interval.js';
import { elidedMarginsCenterRadius } from '../elided-margins.js';
import { sparseFirstLayerBounds, firstAffineLayer } from '../sparse-bounds.js';
import { naivePlan } from './naive-plan.js';
import { denseFirstPlan } from './dense-first-plan.js';
import { convWindowPlan } from './conv-window-plan.js';
import type { MarginPlan, PreparedBatch } from './prepared.js';

/** How margins are computed: `fast` (exact local first layer / windows) or `naive` (full boxes). */
export type BoundMethod = 'fast' | 'naive';

/** Which plan `fast` picks for this model: the dense-first box-sum, the conv windows, or naive. */
export function fastPlanKind(prep: Pick<PreparedBatch, 'model'>): 'dense-first' | 'conv-window' | 'naive' {
  const layers = prep.model.layers;
  if (layers[0]?.type === 'flatten' && layers[1]?.type === 'dense' && layers.length > 2) return 'dense-first';
  if (layers[0]?.type === 'conv2d' && layers.some((l) => l.type === 'flatten')) return 'conv-window';
  return 'naive';
}

function sparsePlan(prep: PreparedBatch, threat: SparseThreat): MarginPlan {
  const { model, onehot } = prep;
  const batch = prep.pixels.shape[0];
  const first = firstAffineLayer(model);
  const last = model.layers.length - 1;
  return {
    rowCost: 1,
    margins(): tf.Tensor3D {
      return tf.tidy(() => {
        const box1 = sparseFirstLayerBounds(model, prep.pixels, threat.k, prep.eps, threat.tight);
        const box = propagateCenterRadius(model, box1, first + 1, last);
        return elidedMarginsCenterRadius(model, { mu: tf.reshape(box.mu, [batch, 1, -1]), r: tf.reshape(box.r, [batch, 1, -1]) }, onehot, prep.hostLabels);
      });
    },
    dispose() {},
  };
}

/**
 * Picks the plan for a threat and method. `differentiable` plans keep every step on the tfjs
 * tape (training); the others may assemble data on the host (certification).
 */
export function createPlan(prep: PreparedBatch, threat: ThreatModel, method: BoundMethod, differentiable: boolean): MarginPlan {
  if (threat.kind === 'sparse') return sparsePlan(prep, threat);
  const patch = threat as PatchThreat;
  if (method === 'naive') return naivePlan(prep, patch);
  switch (fastPlanKind(prep)) {
    case 'dense-first':
      return denseFirstPlan(prep, patch, differentiable);
    case 'conv-window':
      return convWindowPlan(prep, patch, differentiable);
    default:
      return naivePlan(prep, patch);
  }
}
