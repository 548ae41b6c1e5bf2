import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bandMasks, bandsMetByPatch, certifyVoteCounts } from '@patchcert/ablation';
import { bruteForceBroken, throwsCode } from './helpers.js';

/** Every vote vector over `bands` bands with values in {−1 (abstain), 0..classes−1}. */
function* allVotes(bands: number, classes: number): Generator<number[]> {
  const total = Math.pow(classes + 1, bands);
  for (let code = 0; code < total; code++) {
    const v: number[] = [];
    let x = code;
    for (let b = 0; b < bands; b++) {
      v.push((x % (classes + 1)) - 1);
      x = Math.floor(x / (classes + 1));
    }
    yield v;
  }
}

function countsOf(v: number[], classes: number): number[] {
  const c = new Array<number>(classes).fill(0);
  for (const x of v) if (x >= 0) c[x]! += 1;
  return c;
}

const rule = suite('certifyVoteCounts');

rule('should break ties toward the smaller class: ≥ 2Δ suffices against a larger class, > 2Δ is needed against a smaller one', () => {
  assert.equal(certifyVoteCounts([3, 1], 1), { predicted: 0, runnerUp: 1, certified: true });
  assert.equal(certifyVoteCounts([1, 3], 1), { predicted: 1, runnerUp: 1, certified: false });
  assert.equal(certifyVoteCounts([1, 4], 1), { predicted: 1, runnerUp: 1, certified: true });
  assert.equal(certifyVoteCounts([2, 2, 0], 0), { predicted: 0, runnerUp: 2, certified: true });
  assert.equal(certifyVoteCounts([0, 0, 0], 1).certified, false);
});

rule('should agree with an adversary that tries every vote assignment of the bands a patch meets (W=5, 3 classes)', () => {
  const w = 5;
  const h = 3;
  const classes = 3;
  let certifiedSeen = 0;
  for (let s = 1; s <= 2; s++) {
    const masks = bandMasks('column', h, w, s);
    for (let m = 1; m <= 3; m++) {
      const delta = bandsMetByPatch('column', m, s, h, w);
      for (const v of allVotes(w, classes)) {
        const exhaustive = bruteForceBroken(v, masks, w, h, w, m, classes, true);
        const oneClass = bruteForceBroken(v, masks, w, h, w, m, classes, false);
        assert.is(oneClass, exhaustive, `votes ${v} s=${s} m=${m}: one-class adversary differs from exhaustive`);
        const verdict = certifyVoteCounts(countsOf(v, classes), delta);
        if (verdict.certified) {
          certifiedSeen++;
          assert.not.ok(exhaustive, `votes ${v} s=${s} m=${m}: certified but broken`);
        }
      }
    }
  }
  assert.ok(certifiedSeen > 0);
});

rule('should be exact for counts: certified iff no arrangement of those counts over the bands can be flipped by a patch (W=6, 3 classes)', () => {
  const w = 6;
  const h = 6;
  const classes = 3;
  let both = 0;
  let neither = 0;
  for (let s = 1; s <= 3; s++) {
    const masks = bandMasks('column', h, w, s);
    for (let m = 1; m <= 4; m++) {
      const delta = bandsMetByPatch('column', m, s, h, w);
      // For each count vector: is there an arrangement a patch can flip?
      const flippable = new Map<string, boolean>();
      for (const v of allVotes(w, classes)) {
        const key = countsOf(v, classes).join(',');
        const broken = bruteForceBroken(v, masks, w, h, w, m, classes, false);
        flippable.set(key, (flippable.get(key) ?? false) || broken);
        // Soundness on every single arrangement.
        if (certifyVoteCounts(countsOf(v, classes), delta).certified) assert.not.ok(broken, `votes ${v} s=${s} m=${m}`);
      }
      for (const [key, anyBroken] of flippable) {
        const certified = certifyVoteCounts(key.split(',').map(Number), delta).certified;
        assert.is(certified, !anyBroken, `counts ${key} s=${s} m=${m}`);
        if (certified) both++;
        else neither++;
      }
    }
  }
  assert.ok(both > 0 && neither > 0, `${both} certified, ${neither} not`);
});

rule('should throw INVALID_OPTION for no classes or a negative delta', () => {
  throwsCode(() => certifyVoteCounts([], 1), 'INVALID_OPTION');
  throwsCode(() => certifyVoteCounts([1, 2], -1), 'INVALID_OPTION');
});

rule.run();
