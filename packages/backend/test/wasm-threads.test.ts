import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initBackend, PatchcertError } from '@patchcert/backend';

const threads = suite('wasm threads');
const FIXTURE = fileURLToPath(new URL('./fixtures/threaded-wasm.ts', import.meta.url));

/** Runs the fixture in a fresh process (the backend is process-wide) with PATCHCERT_THREADS. */
function runFixture(count: number): { status: number | null; out: { threads: number; simd: boolean; maxDiff: number } } {
  const r = spawnSync(process.execPath, ['--conditions=@patchcert/source', '--import', 'tsx', FIXTURE], {
    encoding: 'utf8',
    env: { ...process.env, PATCHCERT_THREADS: String(count) },
    // The process must exit by itself: an idle pthread pool that kept it alive would hit this.
    timeout: 120_000,
  });
  assert.is(r.error, undefined, `fixture did not finish: ${String(r.error)} ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { status: r.status, out: JSON.parse(line) as { threads: number; simd: boolean; maxDiff: number } };
}

threads('should start the threaded SIMD build with 2 threads, give the cpu results and let the process exit', () => {
  const { status, out } = runFixture(2);
  assert.is(status, 0);
  assert.is(out.threads, 2);
  assert.is(out.simd, true);
  assert.ok(out.maxDiff <= 1e-3, `max |wasm − cpu| ${out.maxDiff}`);
});

threads('should stay on one thread by default', () => {
  const { status, out } = runFixture(1);
  assert.is(status, 0);
  assert.is(out.threads, 1);
  assert.ok(out.maxDiff <= 1e-3, `max |wasm − cpu| ${out.maxDiff}`);
});

threads('should reject a thread count that is not a positive integer, naming it', async () => {
  for (const bad of [0, 1.5, -2]) {
    try {
      await initBackend('wasm', { threads: bad });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, PatchcertError);
      assert.is((e as PatchcertError).code, 'INVALID_OPTION');
      assert.match((e as Error).message, new RegExp(`threads must be an integer >= 1, but got ${bad}`));
    }
  }
});

threads.run();
