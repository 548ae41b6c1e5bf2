import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, type CliRun } from './helpers/cli.js';
import { saveUntrainedMnistModel } from './helpers/untrained-model.js';

const errors = suite<{ model: string }>('certify command errors', { model: '' });

errors.before(async (ctx) => {
  ctx.model = await saveUntrainedMnistModel();
});

errors.after((ctx) => rmSync(join(ctx.model, '..'), { recursive: true, force: true }));

function assertUsageError(r: CliRun, pattern: RegExp): void {
  assert.is(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.match(r.stderr, pattern);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
}

errors('should reject a missing model directory', async () => {
  assertUsageError(await runCli(['/nonexistent/model', '--limit', '2']), /Error in certify: <model-dir> must be .* does not exist/);
});

errors('should reject an unknown dataset', async (ctx) => {
  assertUsageError(await runCli([ctx.model, '--dataset', 'imagenet', '--limit', '2']), /--dataset must be one of mnist, fashion-mnist, cifar10 or folder:<path>, but got 'imagenet'/);
});

errors('should reject a patch larger than the image', async (ctx) => {
  assertUsageError(await runCli([ctx.model, '--patch', '29x29', '--limit', '2']), /--patch must fit inside the 28×28 image, but got 29×29/);
});

errors('should reject k < 1', async (ctx) => {
  assertUsageError(await runCli([ctx.model, '--sparse', '0', '--limit', '2']), /--sparse k must be an integer >= 1, but got '0'/);
});

errors('should reject --limit 0 and an unknown option', async (ctx) => {
  assertUsageError(await runCli([ctx.model, '--limit', '0']), /--limit must be an integer >= 1/);
  assertUsageError(await runCli([ctx.model, '--frobnicate']), /unknown option '--frobnicate'/);
});

errors('should reject an unknown backend', async (ctx) => {
  assertUsageError(await runCli([ctx.model, '--backend', 'tpu', '--limit', '2']), /--backend must be one of wasm, cpu, node, cuda, but got 'tpu'/);
});

errors('should reject --resume without --json', async (ctx) => {
  assertUsageError(await runCli([ctx.model, '--resume', '--limit', '2']), /--resume must come with --json/);
});

errors.run();
