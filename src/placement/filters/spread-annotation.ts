import { eligibleAgents } from '../eligibility.js';
import { fail, type FilterPlugin, type Status } from '../framework.js';
import type { DomainCounter, DomainIndex } from '../state.js';

export const spreadReason = (field: string): string => `node(s) didn't match kube-mesos.io/spread over ${field.replace(/^@/, '')}`;
export const spreadMissingReason = (field: string): string => `node(s) didn't have the field of kube-mesos.io/spread (${field.replace(/^@/, '')})`;

interface Data {
  index: DomainIndex;
  counter: DomainCounter;
  field: string;
  fail: Status;
  missing: Status;
}

/**
 * kube-mesos.io/spread: the pod's siblings spread evenly (max skew 1) over the values of a field, counting every
 * value of the schedulable agents the pod's node affinity allows, including values with no sibling yet.
 */
export const spreadAnnotationFilter: FilterPlugin<Data> = {
  name: 'SpreadAnnotation',
  prepare: (pod, st) => {
    const field = pod.pod.spread?.field;
    if (!field) return undefined;
    const { eligible, sig } = eligibleAgents(pod, st, { keys: [], fields: [field], schedulableOnly: true });
    const index = st.domainIndex(`field:${field}`);
    const gk = pod.groupKey;
    const counter = st.counter(`sa:${gk}\u0001${field}\u0001${sig}`, 'spread', index, (g) => g.groupKey === gk, eligible);
    return { index, counter, field, fail: fail(spreadReason(field)), missing: fail(spreadMissingReason(field), true) };
  },
  filter: (d, a) => {
    const dom = d.index.ids[a.idx];
    if (dom < 0) return d.missing;
    return d.counter.counts[dom] + 1 - d.counter.min > 1 ? d.fail : undefined;
  },
  rejectsAt: (d, idx) => {
    const dom = d.index.ids[idx];
    return dom < 0 || d.counter.counts[dom] + 1 - d.counter.min > 1;
  },
};
