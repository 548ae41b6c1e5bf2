// withOwnTape: a gradient nested in another one, with only some of its ops on the caller's tape.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tf, initBackend } from '@patchcert/backend';
import { withOwnTape } from '../src/internal/own-tape.js';

const ownTape = suite('withOwnTape');

ownTape.before(async () => {
  await initBackend('wasm');
});

/** Caller f(a) = Σ (a·x)² + inner(b) where the inner gradient of b's loss is taken on the side. */
function nested(a: tf.Variable, b: tf.Variable, x: tf.Tensor, isolate: boolean): { ga: Float32Array; gb: Float32Array; tapeNodes: number } {
  let gb: Float32Array | undefined;
  let tapeNodes = 0;
  let caller: tf.Tensor | undefined;
  const { value, grads } = tf.variableGrads(() => {
    const run = (onCallerTape: <R>(g: () => R) => R): tf.Tensor => {
      let kept: tf.Tensor | undefined;
      const inner = tf.variableGrads(() => {
        const h = tf.mul(b, x);
        // The caller differentiates this one (with respect to a); the inner loss reads its values only.
        kept = tf.keep(onCallerTape(() => tf.square(tf.mul(a, x))));
        const target = tf.tensor(kept.dataSync(), kept.shape);
        return tf.sum(tf.square(tf.sub(h, target))) as tf.Scalar;
      }, [b]);
      gb = inner.grads[b.name]!.dataSync() as Float32Array;
      tf.dispose([inner.value, ...Object.values(inner.grads)]);
      return kept!;
    };
    const t = isolate ? withOwnTape(run) : run(<R>(g: () => R) => g());
    caller = t;
    tapeNodes = ((tf.engine() as unknown as { state: { activeTape: unknown[] } }).state.activeTape).length;
    return tf.sum(t) as tf.Scalar;
  }, [a]);
  const ga = grads[a.name]!.dataSync() as Float32Array;
  tf.dispose([value, caller!, ...Object.values(grads)]);
  return { ga, gb: gb!, tapeNodes };
}

ownTape('should give the caller and the inner gradient exactly as a shared tape, record only the caller\'s ops, and free the rest', () => {
  const a = tf.variable(tf.tensor1d([0.5, -1, 2]));
  const b = tf.variable(tf.tensor1d([1, 2, -0.5]));
  const x = tf.tensor1d([3, -2, 0.25]);
  const before = tf.memory().numTensors;
  const shared = nested(a, b, x, false);
  assert.is(tf.memory().numTensors, before);
  const own = nested(a, b, x, true);
  assert.equal(Array.from(own.ga), Array.from(shared.ga));
  assert.equal(Array.from(own.gb), Array.from(shared.gb));
  // Shared: the inner forward and backward ops are on the caller's tape too.
  assert.ok(own.tapeNodes < shared.tapeNodes, `${own.tapeNodes} vs ${shared.tapeNodes}`);
  assert.is(tf.memory().numTensors, before);
  const state = (tf.engine() as unknown as { state: { gradientDepth: number } }).state;
  assert.is(state.gradientDepth, 0);
  tf.dispose([a, b, x]);
});

ownTape('should restore the caller\'s tape when f throws', () => {
  const a = tf.variable(tf.scalar(2));
  const { value, grads } = tf.variableGrads(() => {
    assert.throws(() => withOwnTape(() => { throw new Error('boom'); }), /boom/);
    return tf.square(a) as tf.Scalar;
  }, [a]);
  assert.is(grads[a.name]!.dataSync()[0], 4);
  tf.dispose([value, a, ...Object.values(grads)]);
});

ownTape.run();
