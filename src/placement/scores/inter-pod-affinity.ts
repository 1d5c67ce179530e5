import { termCount, type TermCount } from '../filters/inter-pod-affinity.js';
import type { ScorePlugin } from '../framework.js';

/** Preferred pod affinity (+weight per matching pod in the domain) and anti-affinity (−weight). */
export const interPodAffinityScore: ScorePlugin<{ t: TermCount; w: number }[]> = {
  name: 'InterPodAffinity',
  normalize: 'minmax',
  prepare: (pod, st) => {
    const aff = pod.pod.affinity;
    const pref = aff?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const anti = aff?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    if (pref.length === 0 && anti.length === 0) return undefined;
    const data = [
      ...pref.map((w) => ({ t: termCount(pod, st, w.podAffinityTerm), w: w.weight })),
      ...anti.map((w) => ({ t: termCount(pod, st, w.podAffinityTerm), w: -w.weight })),
    ];
    return { data, weight: 2 };
  },
  score: (terms, a) => affinityScoreAt(terms, a.idx),
  scoreAt: (terms, idx) => affinityScoreAt(terms, idx),
};

function affinityScoreAt(terms: readonly { t: TermCount; w: number }[], idx: number): number {
  let s = 0;
  for (let k = 0; k < terms.length; k++) {
    const { t, w } = terms[k];
    const d = t.index.ids[idx];
    if (d >= 0) s += w * t.counter.counts[d];
  }
  return s;
}
