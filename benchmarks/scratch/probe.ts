import { initBackend, tf, Rng } from '@patchcert/backend';
import { buildModel } from '@patchcert/models';
import type { MarginStrategyContext } from '@patchcert/bounds';
import { Adam, certificateLoss, createStrategy, makeThreat, parseTrainConfig, type StrategyConfig } from '@patchcert/trainers';
await initBackend(process.argv[2] ?? 'wasm');
const threat = makeThreat({ type: 'patch', size: 2 });
const strategies: [string, StrategyConfig, number][] = [
  ['all', { type: 'all' } as StrategyConfig, 2],
  ['random(1)', { type: 'random', k: 1 } as StrategyConfig, 8],
  ['random(10)', { type: 'random', k: 10 } as StrategyConfig, 8],
  ['guided(10)', { type: 'guided', k: 10 } as StrategyConfig, 8],
  ['pool2', { type: 'pooled', neighbor: [2] } as StrategyConfig, 4],
];
for (const [arch, shape] of [["mlp", [28, 28, 1]], ["cnn-4layer", [28, 28, 1]]] as const) {
  for (const [label, sc, batch] of strategies) {
    const model = buildModel(arch, { inputShape: [...shape], numClasses: 10, seed: 1 });
    const config = parseTrainConfig({ dataset: 'mnist', architecture: arch, threat: { type: 'patch', size: 2 }, strategy: sc, epochs: 1, lr: 5e-4, schedule: { start: 0, length: 1 } }, 'x');
    let s;
    try { s = await createStrategy(config.strategy, { threat, model, config, rng: new Rng(1) }); } catch (e) { console.log(label, 'N/A', (e as Error).message); continue; }
    const adam = new Adam(model.trainableVariables());
    const x = tf.randomUniform([batch, ...shape], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const ctx: MarginStrategyContext = { model, images: x, labels: y, eps: 1, rng: new Rng(i), training: true, threat, lr: 5e-4, epoch: 0 };
      const { value, grads } = tf.variableGrads(() => certificateLoss(s.margins(ctx), y), model.trainableVariables());
      adam.step(grads, 5e-4); s.afterStep?.(ctx); value.dataSync(); tf.dispose([value, ...Object.values(grads)]);
      times.push(performance.now() - t0);
    }
    console.log(arch, shape.join('x'), label, batch, times.map((t) => t.toFixed(0)).join(' '), 'ms/img', (Math.min(...times) / batch).toFixed(1), 'rss', Math.round(process.memoryUsage().rss / 2 ** 20));
    s.dispose?.(); adam.dispose(); model.dispose(); tf.dispose([x, y]);
  }
}
