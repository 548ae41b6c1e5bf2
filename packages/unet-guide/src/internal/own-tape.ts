// A gradient computation nested in another one (the U-Net's fit inside the classifier's
// variableGrads) shares tfjs's tape: every op of the U-Net's forward pass, of its backward pass
// and of its Adam step is recorded on the classifier's tape, with the tensors each one saves, and
// all of it lives until the classifier's step ends (633 MiB against 364 at batch 256, and the
// classifier's backward pass filters the thousands of extra nodes). tfjs has no public switch
// for this; its engine decides from `state.gradientDepth` (record while > 0, a fresh tape when a
// gradient starts at 0, saved tensors freed when one ends at 0), so this swaps that state.
import { tf } from '@patchcert/backend';

interface TapeState {
  gradientDepth: number;
  activeTape: unknown[] | null;
}

function engineState(): TapeState {
  return (tf.engine() as unknown as { state: TapeState }).state;
}

/**
 * Runs `f` as if no gradient were being recorded around it: a gradient it computes gets its own
 * tape, freed when it ends, and none of its ops are recorded on the caller's tape, except those
 * run through `onCallerTape` (tensors the caller differentiates, made inside `f`).
 */
export function withOwnTape<T>(f: (onCallerTape: <R>(g: () => R) => R) => T): T {
  const state = engineState();
  const caller = { gradientDepth: state.gradientDepth, activeTape: state.activeTape };
  const onCallerTape = <R>(g: () => R): R => {
    const own = { gradientDepth: state.gradientDepth, activeTape: state.activeTape };
    state.gradientDepth = caller.gradientDepth;
    state.activeTape = caller.activeTape;
    try {
      return g();
    } finally {
      state.gradientDepth = own.gradientDepth;
      state.activeTape = own.activeTape;
    }
  };
  state.gradientDepth = 0;
  try {
    return f(onCallerTape);
  } finally {
    state.gradientDepth = caller.gradientDepth;
    state.activeTape = caller.activeTape;
  }
}
