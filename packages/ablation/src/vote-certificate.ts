import { checkInt } from './internal/fail.js';

/** The verdict of {@link certifyVoteCounts}. */
export interface VoteVerdict {
  /** argmax of the counts, ties broken by the smaller class index. */
  predicted: number;
  /** The largest count among the other classes (0 with one class). */
  runnerUp: number;
  /** True when no change of `delta` votes can change `predicted`. */
  certified: boolean;
}

/**
 * The vote-margin rule of derandomized smoothing. The smoothed prediction is the class with the
 * most votes, ties going to the smaller class index. An adversary who controls `delta` votes can
 * take at most `delta` votes from the top class and give at most `delta` to any other class c, so
 * c can overtake the top class t only if count(t) − delta ≤ count(c) + delta (c wins a tie when
 * c < t, loses it when c > t). The prediction is therefore certified iff for every c ≠ t:
 * - count(t) > count(c) + 2·delta when c < t, and
 * - count(t) ≥ count(c) + 2·delta when c > t.
 * The rule is exact for counts alone: when every verdict it refuses, some arrangement of the same
 * counts over the bands (the top class's votes inside the patch's reach) lets a patch flip it.
 *
 * @param counts - votes per class (abstentions are not counted).
 * @param delta - votes the adversary controls (m + s − 1 for an m×m patch and column width s).
 * @throws PatchcertError INVALID_OPTION for an empty count list or a negative delta.
 */
export function certifyVoteCounts(counts: ArrayLike<number>, delta: number): VoteVerdict {
  checkInt('certifyVoteCounts', 'counts.length', counts.length, 1);
  checkInt('certifyVoteCounts', 'delta', delta, 0);
  let top = 0;
  for (let c = 1; c < counts.length; c++) if (counts[c]! > counts[top]!) top = c;
  let runnerUp = 0;
  let certified = true;
  for (let c = 0; c < counts.length; c++) {
    if (c === top) continue;
    runnerUp = Math.max(runnerUp, counts[c]!);
    const gap = counts[top]! - counts[c]! - 2 * delta;
    if (c < top ? gap <= 0 : gap < 0) certified = false;
  }
  return { predicted: top, runnerUp, certified };
}
