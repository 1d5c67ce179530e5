import { chooseSlot, need } from '../filters/fit.js';
import type { ScorePlugin } from '../framework.js';
import { balancedFree, balancedScore, capacities } from './balanced-allocation.js';

/**
 * 'spread' (least allocated): prefer agents with the most cpus and mem left after the pod; 'binpack' (most
 * allocated): the least. Offers show what is free, not an agent's size, so free amounts are scaled by the
 * largest free amount of any agent at the start of the cycle.
 */
export const resourcesScore: ScorePlugin<boolean> = {
  name: 'NodeResources',
  normalize: 'none',
  prepare: (pod) => ({ data: pod.scoring === 'binpack', weight: 1 }),
  score: (binpack, a, pod, st) => {
    const s = chooseSlot(pod, a, st);
    if (!s) return 0;
    const n = need(pod, a, st);
    const free = ((s.cpus - n.cpus) / st.maxFree.cpus + (s.mem - n.mem) / st.maxFree.mem) * 50;
    return binpack ? 100 - free : free;
  },
};

/**
 * resourcesScore and balancedAllocationScore (both weight 1, both already 0..100) in one pass over the feasible agents:
 * the sum is what the two would add up to, for half the calls on plan()'s hottest path.
 */
export const resourcesAndBalanceScore: ScorePlugin<{ binpack: boolean; cap: Float64Array }> = {
  name: 'NodeResources+BalancedAllocation',
  normalize: 'none',
  prepare: (pod, st) => ({ data: { binpack: pod.scoring === 'binpack', cap: capacities(st) }, weight: 1 }),
  score: (d, a, pod, st) => {
    const s = chooseSlot(pod, a, st);
    if (!s) return 0;
    const n = need(pod, a, st);
    const free = ((s.cpus - n.cpus) / st.maxFree.cpus + (s.mem - n.mem) / st.maxFree.mem) * 50;
    return (d.binpack ? 100 - free : free) + balancedScore(d.cap, a, n);
  },
  scoreFree: (d, i, need, st) => {
    const cpus = need.take[0];
    const mem = need.take[1];
    const c = need.free.cpus[i];
    const m = need.free.mem[i];
    const free = ((c - cpus) / st.maxFree.cpus + (m - mem) / st.maxFree.mem) * 50;
    need.out[0] = (d.binpack ? 100 - free : free) + balancedFree(d.cap, i, c, m, cpus, mem);
  },
};
