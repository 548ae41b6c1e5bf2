import { initBackend, describeBackend } from '@patchcert/backend';
import { train, parseTrainConfig } from '@patchcert/trainers';
await initBackend('wasm');
console.log(describeBackend());
const config = parseTrainConfig({ dataset: 'mnist', architecture: 'mlp', threat: { type: 'patch', size: 2 }, strategy: { type: 'all' }, epochs: 3, batchSize: 64, lr: 5e-4, schedule: { start: 1, length: 2 }, data: { trainLimit: 1024 }, eval: { epochLimit: 100, finalLimit: 200, batchSize: 20 } }, 'smoke');
const t0 = Date.now();
const r = await train(config, { out: '/tmp/run-smoke', onEvent: (e) => { if (e.type !== 'batch' && e.type !== 'eval-progress') console.log(JSON.stringify(e).slice(0, 300)); } });
console.log(r.final, (Date.now() - t0) / 1000);
