import { tolerates, type ScorePlugin } from '../framework.js';

/** Fewer untolerated PreferNoSchedule taints is better. */
export const taintTolerationScore: ScorePlugin<true> = {
  name: 'TaintToleration',
  normalize: 'reverseMax',
  prepare: (_pod, st) =>
    st.hasPreferNoSchedule ? { data: true, weight: 3 } : undefined,
  score: (_d, a, pod) => {
    let n = 0;
    for (const t of a.view.taints) {
      if (t.effect !== 'PreferNoSchedule') continue;
      const tol = pod.pod.tolerations.filter((x) => !x.effect || x.effect === 'PreferNoSchedule');
      if (!tolerates(tol, t)) n++;
    }
    return n;
  },
};
