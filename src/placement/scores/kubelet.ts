import type { ScorePlugin } from '../framework.js';

/**
 * Prefer agents that already run (or get this cycle) a kubelet: fewer executors. With 'binpack' it weighs like
 * the resource score; with 'spread' it only breaks ties, so spreading wins.
 */
export const kubeletScore: ScorePlugin<true> = {
  name: 'ExistingKubelet',
  normalize: 'none',
  prepare: (pod, st) => (st.cfg.preferExistingKubelet ? { data: true, weight: pod.scoring === 'binpack' ? 1 : 0.001 } : undefined),
  score: (_d, a) => (a.hasKubelet ? 100 : 0),
  scoreFree: (_d, i, need) => {
    need.out[0] = need.free.kubelet[i] !== 0 ? 100 : 0;
  },
};
