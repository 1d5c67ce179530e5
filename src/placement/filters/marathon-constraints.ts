import { compilePattern, type ConstraintPattern } from '../annotations.js';
import { fail, type FilterPlugin, type Status } from '../framework.js';
import type { DomainCounter, DomainIndex, WAgent } from '../state.js';
import type { MarathonConstraint } from '../types.js';

export const constraintReason = (c: MarathonConstraint): string =>
  `node(s) didn't match Marathon constraint ${JSON.stringify(c.value === undefined ? [c.field, c.operator] : [c.field, c.operator, c.value])}`;

interface Check {
  c: MarathonConstraint;
  index: DomainIndex;
  /** The pod's siblings per value of the field. */
  counter: DomainCounter;
  regex?: ConstraintPattern;
  /** LIKE/UNLIKE: per domain id, 0 = not matched yet, 1 = matches, 2 = does not (each distinct value matched once). */
  matched?: Int8Array;
  /** GROUP_BY: groups (values with siblings, plus "no such attribute" if any) and the smallest group's size. */
  groups: number;
  minCount: number;
  limit: number;
  staticFail: Status;
  dynamicFail: Status;
}

const NOTHING: ConstraintPattern = { matches: () => false };

// podFromV1 rejects patterns that do not compile; a view built elsewhere with one matches nothing rather than throwing.
function wholeMatch(re: string): ConstraintPattern {
  const r = compilePattern(re);
  return r.ok ? r.pattern : NOTHING;
}

function likeMatches(k: Check, d: number, value: string): boolean {
  const m = k.matched!;
  if (d >= m.length) return k.regex!.matches(value);
  if (m[d] === 0) m[d] = k.regex!.matches(value) ? 1 : 2;
  return m[d] === 1;
}

const isNumber = (s: string): boolean => /^[+-]?(\d+\.?\d*|\.\d+)$/.test(s);

function valueMatches(op: 'IS' | 'CLUSTER', actual: string, wanted: string): boolean {
  if (op === 'IS' && isNumber(actual) && isNumber(wanted)) return Math.abs(Number(actual) - Number(wanted)) < 1e-9;
  return actual === wanted;
}

/**
 * kube-mesos.io/constraints with Marathon's semantics: counted over the pod's siblings (same owner); an agent
 * without the field is refused by every operator but UNLIKE; LIKE/UNLIKE regexes match the whole value,
 * in linear time (RE2).
 */
export const marathonConstraintsFilter: FilterPlugin<Check[]> = {
  name: 'MarathonConstraints',
  prepare: (pod, st) => {
    if (pod.pod.constraints.length === 0) return undefined;
    return pod.pod.constraints.map((c) => {
      const index = st.domainIndex(`field:${c.field}`);
      const gk = pod.groupKey;
      const counter = st.counter(`mc:${gk}\u0001${c.field}`, 'groups', index, (g) => g.groupKey === gk, null);
      const groups = counter.presentCount + (counter.missing > 0 ? 1 : 0);
      let minCount = counter.presentCount > 0 ? counter.min : Infinity;
      if (counter.missing > 0) minCount = Math.min(minCount, counter.missing);
      if (minCount === Infinity) minCount = 0;
      const reason = constraintReason(c);
      return {
        c,
        index,
        counter,
        ...(c.operator === 'LIKE' || c.operator === 'UNLIKE' ? { regex: wholeMatch(c.value ?? ''), matched: new Int8Array(index.names.length) } : {}),
        groups,
        minCount,
        limit: c.operator === 'MAX_PER' ? Number(c.value) : c.operator === 'GROUP_BY' ? Number(c.value ?? 0) : 0,
        staticFail: fail(reason, true),
        dynamicFail: fail(reason),
      };
    });
  },
  filter: (checks, a: WAgent) => {
    for (const k of checks) {
      const d = k.index.ids[a.idx];
      if (d < 0) {
        if (k.c.operator === 'UNLIKE') continue;
        return k.staticFail;
      }
      const value = k.index.names[d];
      const here = k.counter.counts[d];
      switch (k.c.operator) {
        case 'LIKE':
          if (!likeMatches(k, d, value)) return k.staticFail;
          break;
        case 'UNLIKE':
          if (likeMatches(k, d, value)) return k.staticFail;
          break;
        case 'IS':
          if (!valueMatches('IS', value, k.c.value!)) return k.staticFail;
          break;
        case 'CLUSTER':
          if (k.c.value !== undefined && !valueMatches('CLUSTER', value, k.c.value)) return k.staticFail;
          if (here !== k.counter.total) return k.dynamicFail; // some sibling runs elsewhere
          break;
        case 'UNIQUE':
          if (here > 0) return k.dynamicFail;
          break;
        case 'MAX_PER':
          if (here >= k.limit) return k.dynamicFail;
          break;
        case 'GROUP_BY':
          if (here > 0 && !(k.groups >= k.limit && here === k.minCount)) return k.dynamicFail;
          break;
      }
    }
    return undefined;
  },
};
