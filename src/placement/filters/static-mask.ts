import type { FilterPlugin } from '../framework.js';
import { nodeAffinityFilter } from './node-affinity.js';
import { nodeNameFilter } from './node-name.js';
import { taintTolerationFilter } from './taint-toleration.js';
import { unschedulableFilter } from './unschedulable.js';

const STATIC = [unschedulableFilter, nodeNameFilter, taintTolerationFilter, nodeAffinityFilter] as unknown as FilterPlugin<unknown>[];
const FAILED = Object.freeze({ reasons: Object.freeze(['static filters']), unresolvable: true });

/**
 * The filters that depend on the pod's spec and the agent only (unschedulable, nodeName, taints, node affinity),
 * folded into one mask per distinct spec, kept across plans and updated only at agents whose view changed: pods of one
 * workload pay for them once, not once per agent and cycle.
 * Used only to search; reasons come from the filters themselves.
 */
export const staticMaskFilter: FilterPlugin<Uint8Array> = {
  name: 'StaticMask',
  prepare: (pod, st) => {
    const p = pod.pod;
    const sig = JSON.stringify([p.nodeName ?? '', pod.nodeMatchSig, p.tolerations]);
    let prepared: [FilterPlugin<unknown>, unknown][] = [];
    return st.perAgent(
      `static:${sig}`,
      (n) => {
        prepared = [];
        for (const f of STATIC) {
          const d = f.prepare(pod, st);
          if (d !== undefined) prepared.push([f, d]);
        }
        return new Uint8Array(n);
      },
      (mask, a) => {
        // The filters read only the agent's view and what the pod's signature names (kept from the first such pod).
        let ok = 1;
        // indexes, not for-of with destructuring: that allocates an iterator and an entry per agent
        for (let k = 0; k < prepared.length; k++) {
          if (prepared[k][0].filter(prepared[k][1], a, pod, st)) {
            ok = 0;
            break;
          }
        }
        mask[a.idx] = ok;
      },
    );
  },
  filter: (mask, a) => (mask[a.idx] ? undefined : FAILED),
};
