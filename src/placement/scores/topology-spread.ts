import type { V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { spreadTerm, type SpreadTerm } from '../filters/topology-spread.js';
import type { ScorePlugin } from '../framework.js';
import { LABEL_HOSTNAME, LABEL_ZONE, type DomainCounter, type DomainIndex } from '../state.js';

interface Soft {
  index: DomainIndex;
  counter: DomainCounter;
  self: number;
  weight: number;
  /** Agents without the key: kube-scheduler scores them worst for explicit constraints, ignores system defaults. */
  required: boolean;
}

const weightOf = (t: SpreadTerm): number => Math.log(t.counter.presentCount + 2);

/**
 * ScheduleAnyway topologySpreadConstraints: fewer matching pods in the agent's domain is better. Pods without
 * constraints that have an owner get kube-scheduler's system defaults (hostname and zone, siblings) under
 * 'spread' scoring.
 */
export const topologySpreadScore: ScorePlugin<Soft[]> = {
  name: 'PodTopologySpread',
  normalize: 'minmaxReverse',
  prepare: (pod, st) => {
    const all = pod.pod.topologySpreadConstraints;
    if (all.length > 0) {
      const soft: V1TopologySpreadConstraint[] = all.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
      if (soft.length === 0) return undefined;
      const keys = soft.map((c) => c.topologyKey);
      const data = soft.map((c) => {
        const t = spreadTerm(pod, st, c, keys);
        return { index: t.index, counter: t.counter, self: t.self, weight: weightOf(t), required: true };
      });
      return { data, weight: 2 };
    }
    if (pod.scoring !== 'spread' || !pod.pod.ownerUid) return undefined;
    const gk = pod.groupKey;
    const data = [LABEL_HOSTNAME, LABEL_ZONE].map((key) => {
      const index = st.domainIndex(`label:${key}`);
      const counter = st.counter(`sib:${gk}\u0001${key}`, 'plain', index, (g) => g.groupKey === gk, null);
      return { index, counter, self: 1, weight: Math.log(index.names.length + 2), required: false };
    });
    return { data, weight: 2 };
  },
  score: (soft, a) => spreadScoreAt(soft, a.idx),
  scoreAt: (soft, idx) => spreadScoreAt(soft, idx),
};

function spreadScoreAt(soft: readonly Soft[], idx: number): number {
  let s = 0;
  for (let k = 0; k < soft.length; k++) {
    const t = soft[k];
    const d = t.index.ids[idx];
    if (d < 0) {
      if (t.required) return NaN;
      continue;
    }
    s += (t.counter.counts[d] + t.self) * t.weight;
  }
  return s;
}
