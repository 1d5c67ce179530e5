import type { V1PreferredSchedulingTerm } from '@kubernetes/client-node';
import type { ScorePlugin } from '../framework.js';
import { compileNodeSelectorTerms, type NodeLike } from '../selectors.js';

/** preferredDuringSchedulingIgnoredDuringExecution: sum of the weights of the terms the agent matches. */
export const nodeAffinityScore: ScorePlugin<{ weight: number; match: (n: NodeLike) => boolean }[]> = {
  name: 'NodeAffinity',
  normalize: 'max',
  prepare: (pod, st) => {
    const terms: V1PreferredSchedulingTerm[] = pod.pod.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    const useful = terms.filter((t) => t.weight > 0);
    if (useful.length === 0) return undefined;
    const data = st.memoize(`prefnode:${JSON.stringify(useful)}`, () =>
      useful.map((t) => ({ weight: t.weight, match: compileNodeSelectorTerms([t.preference]) })),
    );
    return { data, weight: 2 };
  },
  score: (terms, a) => {
    let s = 0;
    for (const t of terms) if (t.match(a)) s += t.weight;
    return s;
  },
};
