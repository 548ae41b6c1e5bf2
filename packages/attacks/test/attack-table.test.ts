import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { initBackend, tf } from '@patchcert/backend';
import type { SequentialModel } from '@patchcert/models';
import { attackTable, formatAttackTable, localGradientSmoothing, type AttackTableRow } from '@patchcert/attacks';
import { trainedMlp, mnist, throwsCode } from './helpers.js';

interface Ctx {
  model: SequentialModel;
  x: tf.Tensor4D;
  y: Int32Array;
  rows: AttackTableRow[];
}

const table = suite<Ctx>('attackTable');

table.before(async (ctx) => {
  await initBackend('wasm');
  ctx.model = await trainedMlp();
  const d = await mnist('test', 80);
  ctx.x = d.x;
  ctx.y = d.y;
});

table.after((ctx) => {
  ctx.model.dispose();
  ctx.x.dispose();
});

table('should show adaptive attacks through LGS and DW beating the attack around them (the paper\'s finding)', (ctx) => {
  const { model, x, y } = ctx;
  ctx.rows = attackTable(model, x, y, { threat: '2x2', placements: ['random'], restarts: 6, steps: 25, seed: 1 });
  const row = (attack: string, defense: string): AttackTableRow => {
    const r = ctx.rows.find((q) => q.attack === attack && q.defense === defense);
    assert.ok(r, `missing row ${attack} / ${defense}`);
    return r!;
  };
  const none = row('IFGSM', 'none');
  assert.ok(none.adversarialAccuracy < none.cleanAccuracy, 'the undefended model loses accuracy');
  for (const d of ['LGS', 'DW']) {
    const around = row('IFGSM', d);
    const through = row(`IFGSM + ${d}`, d);
    assert.ok(around.cleanAccuracy >= none.cleanAccuracy - 0.05, `${d} keeps clean accuracy (${around.cleanAccuracy})`);
    assert.ok(around.adversarialAccuracy > none.adversarialAccuracy, `${d} helps against the non-adaptive attack`);
    assert.ok(through.adversarialAccuracy < around.adversarialAccuracy, `${d}: through ${through.adversarialAccuracy} vs around ${around.adversarialAccuracy}`);
  }
  assert.equal(ctx.rows.map((r) => r.attack), ['IFGSM', 'IFGSM', 'IFGSM + LGS', 'IFGSM', 'IFGSM + DW']);
});

table('should run one adversary per placement and accept Defense objects', ({ model, x, y }) => {
  const few = tf.slice(x, [0, 0, 0, 0], [10, -1, -1, -1]);
  const rows = attackTable(model, few, y.subarray(0, 10), {
    threat: 3,
    defenses: [localGradientSmoothing({ lambda: 2 })],
    placements: ['corners', 'random'],
    adaptive: false,
    restarts: 4,
    steps: 5,
  });
  assert.equal(rows.map((r) => [r.placement, r.defense, r.adaptive]), [['corners', 'LGS', false], ['random', 'LGS', false]]);
  assert.ok(rows.every((r) => r.images === 10 && r.adversarialAccuracy <= r.cleanAccuracy));
  few.dispose();
});

table('should leave no tensors behind', ({ model, x, y }) => {
  const few = tf.slice(x, [0, 0, 0, 0], [5, -1, -1, -1]);
  const before = tf.memory().numTensors;
  attackTable(model, few, y.subarray(0, 5), { threat: 2, restarts: 2, steps: 2 });
  assert.is(tf.memory().numTensors, before);
  few.dispose();
});

table('should throw INVALID_OPTION for an unknown defense or placement', ({ model, x, y }) => {
  throwsCode(() => attackTable(model, x, y, { threat: 2, defenses: ['jpeg' as never] }), 'INVALID_OPTION');
  throwsCode(() => attackTable(model, x, y, { threat: 2, placements: ['edges' as never] }), 'INVALID_OPTION');
});

table.run();

// ---

const format = suite('formatAttackTable');

format('should render one Markdown line per row with percentages', () => {
  const text = formatAttackTable([
    { attack: 'IFGSM', defense: 'none', placement: 'random', adaptive: false, images: 10, cleanAccuracy: 0.9, adversarialAccuracy: 0.45, seconds: 1 },
    { attack: 'IFGSM + LGS', defense: 'LGS', placement: 'random', adaptive: true, images: 10, cleanAccuracy: 0.85, adversarialAccuracy: 0.3, seconds: 2 },
  ]);
  const lines = text.split('\n');
  assert.is(lines.length, 4);
  assert.match(lines[0]!, /attack \| defense \| adversary/);
  assert.is(lines[2], '| IFGSM | none | random | 10 | 90.0% | 45.0% |');
  assert.is(lines[3], '| IFGSM + LGS | LGS | random | 10 | 85.0% | 30.0% |');
});

format.run();
