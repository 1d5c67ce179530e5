import { fail, type FilterPlugin, type PodCtx } from '../framework.js';
import { compileTerm, type CompiledTerm, type CycleState, type DomainCounter, type DomainIndex } from '../state.js';
import type { V1PodAffinityTerm } from '@kubernetes/client-node';

export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
const AFFINITY = fail(REASON_AFFINITY, true);
const ANTI = fail(REASON_ANTI_AFFINITY);
const EXISTING = fail(REASON_EXISTING_ANTI_AFFINITY);

export interface TermCount {
  term: CompiledTerm;
  index: DomainIndex;
  counter: DomainCounter;
}

/** Pods (any agent) that a term of `pod` selects, counted per domain of the term's topology key. */
export function termCount(pod: PodCtx, st: CycleState, t: V1PodAffinityTerm): TermCount {
  const term = compileTerm(t, pod.pod.namespace, pod.pod.labels);
  const index = st.domainIndex(`label:${term.topologyKey}`);
  const counter = st.counter(`aff:${term.key}`, 'plain', index, (g) => term.namespaces(g.namespace) && term.selector(g.labels), null);
  return { term, index, counter };
}

interface Data {
  affinity: TermCount[];
  anti: TermCount[];
  against: { index: DomainIndex; counter: DomainCounter }[];
}

/** Required pod affinity and anti-affinity, and the required anti-affinity of pods already placed (symmetry). */
export const interPodAffinityFilter: FilterPlugin<Data> = {
  name: 'InterPodAffinity',
  prepare: (pod, st) => {
    const aff = pod.pod.affinity;
    const affTerms = aff?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    const antiTerms = aff?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    let affinity = affTerms.map((t) => termCount(pod, st, t));
    const anti = antiTerms.map((t) => termCount(pod, st, t));
    const against = st.antiAffinityAgainst(pod.pod.namespace, pod.pod.labels).map((e) => ({
      index: st.domainIndex(`label:${e.term.topologyKey}`),
      counter: e.counter,
    }));
    // kube-scheduler: the first pod of a group with affinity to itself may go anywhere.
    if (affinity.length > 0 && affinity.every((c) => c.counter.total - c.counter.missing === 0)) {
      if (affinity.every((c) => c.term.namespaces(pod.pod.namespace) && c.term.selector(pod.pod.labels))) affinity = [];
    }
    if (affinity.length === 0 && anti.length === 0 && against.length === 0) return undefined;
    return { affinity, anti, against };
  },
  filter: (d, a) => {
    for (const e of d.against) {
      const dom = e.index.ids[a.idx];
      if (dom >= 0 && e.counter.counts[dom] > 0) return EXISTING;
    }
    for (const e of d.anti) {
      const dom = e.index.ids[a.idx];
      if (dom >= 0 && e.counter.counts[dom] > 0) return ANTI;
    }
    for (const e of d.affinity) {
      const dom = e.index.ids[a.idx];
      if (dom < 0 || e.counter.counts[dom] === 0) return AFFINITY;
    }
    return undefined;
  },
};
