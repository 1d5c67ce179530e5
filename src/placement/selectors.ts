import type { V1LabelSelector, V1NodeSelectorRequirement, V1NodeSelectorTerm } from '@kubernetes/client-node';

export type Labels = Record<string, string>;
export type LabelMatcher = (labels: Labels) => boolean;

const NOTHING: LabelMatcher = () => false;
const EVERYTHING: LabelMatcher = () => true;

/**
 * Compiles a metav1.LabelSelector. As in Kubernetes, a missing selector matches nothing and an empty one
 * everything; an unknown operator makes the selector match nothing.
 */
export function compileLabelSelector(sel: V1LabelSelector | undefined | null): LabelMatcher {
  if (!sel) return NOTHING;
  const tests: LabelMatcher[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) tests.push((l) => l[k] === v);
  for (const r of sel.matchExpressions ?? []) {
    const key = r.key;
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        tests.push((l) => l[key] !== undefined && values.includes(l[key]));
        break;
      case 'NotIn':
        tests.push((l) => l[key] === undefined || !values.includes(l[key]));
        break;
      case 'Exists':
        tests.push((l) => l[key] !== undefined);
        break;
      case 'DoesNotExist':
        tests.push((l) => l[key] === undefined);
        break;
      default:
        return NOTHING;
    }
  }
  if (tests.length === 0) return EVERYTHING;
  if (tests.length === 1) return tests[0];
  return (l) => {
    for (const t of tests) if (!t(l)) return false;
    return true;
  };
}

/** A canonical text of a selector, so equal selectors share counters. */
export function selectorKey(sel: V1LabelSelector | undefined | null): string {
  if (!sel) return '∅';
  const ml = Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const me = (sel.matchExpressions ?? [])
    .map((r) => `${r.key}|${r.operator}|${[...(r.values ?? [])].sort().join(',')}`)
    .sort();
  return JSON.stringify([ml, me]);
}

/** Adds `key In (pod's value)` for each matchLabelKeys key the pod has (topology spread, pod affinity). */
export function withMatchLabelKeys(sel: V1LabelSelector | undefined, keys: string[] | undefined, podLabels: Labels): V1LabelSelector | undefined {
  if (!sel || !keys || keys.length === 0) return sel;
  const extra = keys.filter((k) => podLabels[k] !== undefined).map((k) => ({ key: k, operator: 'In', values: [podLabels[k]] }));
  if (extra.length === 0) return sel;
  return { ...sel, matchExpressions: [...(sel.matchExpressions ?? []), ...extra] };
}

/** What a node selector requirement can look at: the agent's Node labels and its Node name. */
export interface NodeLike {
  labels: Labels;
  name: string;
}

function requirement(r: V1NodeSelectorRequirement, get: (n: NodeLike) => string | undefined): ((n: NodeLike) => boolean) | undefined {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return (n) => {
        const v = get(n);
        return v !== undefined && values.includes(v);
      };
    case 'NotIn':
      return (n) => {
        const v = get(n);
        return v === undefined || !values.includes(v);
      };
    case 'Exists':
      return (n) => get(n) !== undefined;
    case 'DoesNotExist':
      return (n) => get(n) === undefined;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1 || !/^-?\d+$/.test(values[0])) return undefined;
      const bound = Number(values[0]);
      const gt = r.operator === 'Gt';
      return (n) => {
        const v = get(n);
        if (v === undefined || !/^-?\d+$/.test(v)) return false;
        return gt ? Number(v) > bound : Number(v) < bound;
      };
    }
    default:
      return undefined;
  }
}

/**
 * Compiles NodeSelectorTerms (ORed; requirements inside a term ANDed). As kube-scheduler: a term without
 * requirements matches nothing, an invalid requirement makes its term match nothing, matchFields knows
 * metadata.name only.
 */
export function compileNodeSelectorTerms(terms: V1NodeSelectorTerm[]): (n: NodeLike) => boolean {
  const compiled: ((n: NodeLike) => boolean)[] = [];
  for (const t of terms) {
    const reqs: ((n: NodeLike) => boolean)[] = [];
    let valid = true;
    for (const r of t.matchExpressions ?? []) {
      const key = r.key;
      const f = requirement(r, (n) => n.labels[key]);
      if (!f) valid = false;
      else reqs.push(f);
    }
    for (const r of t.matchFields ?? []) {
      const f = r.key === 'metadata.name' && (r.operator === 'In' || r.operator === 'NotIn') ? requirement(r, (n) => n.name) : undefined;
      if (!f) valid = false;
      else reqs.push(f);
    }
    if (!valid || reqs.length === 0) continue;
    compiled.push((n) => reqs.every((f) => f(n)));
  }
  if (compiled.length === 0) return () => false;
  return (n) => compiled.some((f) => f(n));
}

/**
 * A pod's nodeSelector and required node affinity as one predicate (NodeAffinity's filter), or undefined when the pod
 * has neither. `sel` empty counts as none.
 */
export function podNodeMatcher(
  sel: Record<string, string> | undefined,
  required: { nodeSelectorTerms?: V1NodeSelectorTerm[] } | undefined,
): ((n: NodeLike) => boolean) | undefined {
  const entries = Object.entries(sel ?? {});
  if (entries.length === 0 && !required) return undefined;
  const terms = required ? compileNodeSelectorTerms(required.nodeSelectorTerms ?? []) : undefined;
  return (n: NodeLike) => {
    for (const [k, v] of entries) if (n.labels[k] !== v) return false;
    return terms ? terms(n) : true;
  };
}
