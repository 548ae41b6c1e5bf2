import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Imports every package's *built* entry point the way a user's project does: a plain `node`
// process, no source condition, resolution through each package.json `exports` map to dist/.
const REPO = resolve(new URL('../..', import.meta.url).pathname);
const TESTS = join(REPO, 'tests');
const pkgs = readdirSync(join(REPO, 'packages')).map((d) => {
  const pj = JSON.parse(readFileSync(join(REPO, 'packages', d, 'package.json'), 'utf8')) as { name: string; exports: Record<string, { types?: string; import?: string } | string> };
  return { dir: join(REPO, 'packages', d), name: pj.name, exports: pj.exports };
});
// One export each package must offer, so an empty or wrong build fails.
const KEY: Record<string, string> = {
  '@patchcert/backend': 'initBackend',
  '@patchcert/datasets': 'loadDataset',
  '@patchcert/models': 'buildModel',
  '@patchcert/bounds': 'certify',
  '@patchcert/pooling': 'pooledCertify',
  '@patchcert/unet-guide': 'guidedPatches',
  '@patchcert/attacks': 'patchAttack',
  '@patchcert/ablation': 'certifyDerandomizedColumns',
  '@patchcert/trainers': 'train',
};

const entry = suite('built entry points');

entry('should cover every package in packages/', () => {
  assert.equal(pkgs.map((p) => p.name).sort(), Object.keys(KEY).sort());
});

for (const p of pkgs) {
  entry(`[${p.name}] should import from dist through the exports map, with type declarations`, () => {
    const dot = p.exports['.'];
    assert.type(dot, 'object');
    const types = (dot as { types: string }).types;
    assert.ok(existsSync(join(p.dir, types)), `${p.name}: ${types} must exist (run pnpm build)`);
    const script = `const url = import.meta.resolve('${p.name}'); const m = await import('${p.name}'); console.log(JSON.stringify({ url, keys: Object.keys(m) }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: TESTS, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const { url, keys } = JSON.parse(out.trim().split('\n').pop()!) as { url: string; keys: string[] };
    assert.match(url, /\/dist\/index\.js$/, `${p.name} resolved to ${url}`);
    assert.ok(keys.includes(KEY[p.name]!), `${p.name} exports ${KEY[p.name]}`);
  });
}

entry.run();
