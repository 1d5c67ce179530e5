import { fail, type FilterPlugin } from '../framework.js';
import type { NodeLike } from '../selectors.js';

/** kube-scheduler 1.20's nodeaffinity.ErrReasonPod (nodeSelector and required affinity alike). */
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity";
const FAIL = fail(REASON_NODE_AFFINITY, true);

/** nodeSelector and required node affinity (all operators, matchFields metadata.name). */
export const nodeAffinityFilter: FilterPlugin<(n: NodeLike) => boolean> = {
  name: 'NodeAffinity',
  prepare: (pod) => pod.nodeMatch,
  filter: (match, a) => (match(a) ? undefined : FAIL),
};
