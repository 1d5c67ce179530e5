import { fail, type FilterPlugin } from '../framework.js';

/** kube-scheduler 1.20's nodename.ErrReason. */
export const REASON_NODE_NAME = "node(s) didn't match the requested hostname";
const FAIL = fail(REASON_NODE_NAME, true);

/** spec.nodeName matches the agent's Node name, hostname or agent id. */
export const nodeNameFilter: FilterPlugin<string> = {
  name: 'NodeName',
  prepare: (pod) => pod.pod.nodeName || undefined,
  filter: (name, a) => (a.name === name || a.view.hostname === name || a.id === name ? undefined : FAIL),
};
