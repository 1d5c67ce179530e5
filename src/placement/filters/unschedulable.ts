import { fail, tolerates, type FilterPlugin } from '../framework.js';

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
const FAIL = fail(REASON_UNSCHEDULABLE, true);
const TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** Cordoned, failed-zone or maintenance agents take no pods, unless the pod tolerates node.kubernetes.io/unschedulable. */
export const unschedulableFilter: FilterPlugin<true> = {
  name: 'NodeUnschedulable',
  prepare: (pod) => (tolerates(pod.pod.tolerations, TAINT) ? undefined : true),
  filter: (_d, a) => (a.view.unschedulable ? FAIL : undefined),
};
