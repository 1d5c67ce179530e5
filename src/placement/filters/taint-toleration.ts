import { fail, tolerates, type FilterPlugin } from '../framework.js';

/** kube-scheduler 1.20's words for the first untolerated NoSchedule/NoExecute taint. */
export const untoleratedTaint = (key: string, value?: string): string => `node(s) had taint {${key}: ${value ?? ''}}, that the pod didn't tolerate`;

/** NoSchedule and NoExecute taints the pod does not tolerate keep it off the agent. */
export const taintTolerationFilter: FilterPlugin<true> = {
  name: 'TaintToleration',
  prepare: () => true,
  filter: (_d, a, pod) => {
    const taints = a.view.taints;
    if (taints.length === 0) return undefined;
    for (const t of taints) {
      if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
      if (!tolerates(pod.pod.tolerations, t)) return fail(untoleratedTaint(t.key, t.value), true);
    }
    return undefined;
  },
};
