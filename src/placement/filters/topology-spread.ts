import type { V1TopologySpreadConstraint } from '@kubernetes/client-node';
import { eligibleAgents } from '../eligibility.js';
import { fail, type FilterPlugin, type PodCtx } from '../framework.js';
import { compileLabelSelector, selectorKey, withMatchLabelKeys } from '../selectors.js';
import type { CycleState, DomainCounter, DomainIndex } from '../state.js';

export const REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
export const REASON_SPREAD_LABEL = `${REASON_SPREAD} (missing required label)`;
const FAIL = fail(REASON_SPREAD);
const FAIL_LABEL = fail(REASON_SPREAD_LABEL, true);

export interface SpreadTerm {
  index: DomainIndex;
  counter: DomainCounter;
  maxSkew: number;
  /** 1 when the constraint's selector matches the pod itself. */
  self: number;
  minDomains: number;
}

/** Counter of pods in the pod's namespace matching the constraint's selector, per domain of its topology key. */
export function spreadTerm(pod: PodCtx, st: CycleState, c: V1TopologySpreadConstraint, keys: string[]): SpreadTerm {
  // Pods of one workload share their constraints: one cheap key finds the term built for an earlier sibling.
  const mlk = (c.matchLabelKeys ?? []).map((k) => pod.pod.labels[k] ?? '\u0000').join('\u0001');
  const taints = c.nodeTaintsPolicy === 'Honor' ? JSON.stringify(pod.pod.tolerations) : '';
  const memoKey = `tsterm:${pod.pod.namespace}\u0001${JSON.stringify(c)}\u0001${mlk}\u0001${pod.nodeMatchSig}\u0001${taints}\u0001${keys.join('\u0001')}`;
  const cached = st.memo.get(memoKey) as { term: SpreadTerm; match: (l: Record<string, string>) => boolean } | undefined;
  if (cached) {
    const t = cached.term; // a literal, not a spread: V8 reads spread-built objects several times slower
    return { index: t.index, counter: t.counter, maxSkew: t.maxSkew, self: cached.match(pod.pod.labels) ? 1 : 0, minDomains: t.minDomains };
  }
  const sel = withMatchLabelKeys(c.labelSelector, c.matchLabelKeys, pod.pod.labels);
  const { eligible, sig } = eligibleAgents(pod, st, { nodeAffinityPolicy: c.nodeAffinityPolicy, nodeTaintsPolicy: c.nodeTaintsPolicy, keys });
  const ns = pod.pod.namespace;
  const skey = selectorKey(sel);
  const index = st.domainIndex(`label:${c.topologyKey}`);
  const match = st.memoize(`sel:${skey}`, () => compileLabelSelector(sel));
  const counter = st.counter(`tsc:${ns}\u0001${skey}\u0001${c.topologyKey}\u0001${sig}`, 'spread', index, (g) => g.namespace === ns && match(g.labels), eligible);
  const self = match(pod.pod.labels) ? 1 : 0;
  const term = { index, counter, maxSkew: c.maxSkew, self, minDomains: c.minDomains ?? 1 };
  st.memo.set(memoKey, { term, match });
  return term;
}

interface Hard {
  term: SpreadTerm;
  minMatch: number;
  /** The domain numbers by agent (term.index.ids). */
  ids: Int32Array;
  /** Per domain, 1 where the pod may go (fixed while one pod is searched); null when there are too many domains to list. */
  allowed: Uint8Array | null;
  /** The bitsets (DomainIndex.bits) of the allowed domains; null when allowed is, or the index keeps none. */
  allowedBits: Int32Array[] | null;
}

/** Up to this many domains (zones, racks), the filter lists the allowed ones once per pod instead of per agent. */
const LIST_DOMAINS = 64;

/** topologySpreadConstraints with whenUnsatisfiable DoNotSchedule (kube-scheduler 1.27+ semantics). */
export const topologySpreadFilter: FilterPlugin<Hard[]> = {
  name: 'PodTopologySpread',
  prepare: (pod, st) => {
    const hard = pod.pod.topologySpreadConstraints.filter((c) => (c.whenUnsatisfiable ?? 'DoNotSchedule') === 'DoNotSchedule');
    if (hard.length === 0) return undefined;
    const keys = hard.map((c) => c.topologyKey);
    return hard.map((c) => {
      const term = spreadTerm(pod, st, c, keys);
      const minMatch = term.counter.presentCount < term.minDomains ? 0 : term.counter.min;
      const domains = term.index.names.length;
      let allowed: Uint8Array | null = null;
      let allowedBits: Int32Array[] | null = null;
      if (domains <= LIST_DOMAINS) {
        allowed = new Uint8Array(domains);
        for (let d = 0; d < domains; d++) allowed[d] = term.counter.counts[d] + term.self - minMatch > term.maxSkew ? 0 : 1;
        const bits = term.index.bits;
        if (bits !== null) {
          allowedBits = [];
          for (let d = 0; d < domains; d++) if (allowed[d] !== 0) allowedBits.push(bits[d]);
        }
      }
      return { term, minMatch, ids: term.index.ids, allowed, allowedBits };
    });
  },
  filter: (hard, a) => {
    for (const h of hard) {
      const d = h.term.index.ids[a.idx];
      if (d < 0) return FAIL_LABEL;
    }
    for (const h of hard) {
      const d = h.term.index.ids[a.idx];
      if (h.term.counter.counts[d] + h.term.self - h.minMatch > h.term.maxSkew) return FAIL;
    }
    return undefined;
  },
  rejectsAt: (hard, idx) => {
    for (let k = 0; k < hard.length; k++) {
      const h = hard[k];
      const d = h.ids[idx];
      if (d < 0) return true;
      const allowed = h.allowed;
      if (allowed !== null) {
        if (allowed[d] === 0) return true;
      } else if (h.term.counter.counts[d] + h.term.self - h.minMatch > h.term.maxSkew) return true;
    }
    return false;
  },
  answersByWord: (hard) => {
    for (let k = 0; k < hard.length; k++) if (hard[k].allowedBits === null) return false;
    return true;
  },
  allowedWord: (hard, w) => {
    let r = -1;
    for (let k = 0; k < hard.length; k++) {
      const bits = hard[k].allowedBits!;
      let t = 0;
      for (let j = 0; j < bits.length; j++) t |= bits[j][w];
      r &= t; // agents without the key are in no domain's bitset: rejected, as rejectsAt() has them
    }
    return r;
  },
};
