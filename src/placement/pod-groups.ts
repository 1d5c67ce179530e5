// The placed pods in groups of look-alikes (PodGroup), counted per agent, and the per-domain counters of the groups a
// predicate selects (DomainCounter), kept by the AgentTable from one plan to the next: built on first need from every
// agent's pods, then updated at the agents a sync changes (view changed, drawn on by the last plan, arrived) instead
// of recounting every placed pod each plan. A fresh table builds the same groups and counters.
import type { V1PodAffinityTerm } from '@kubernetes/client-node';
import { DomainCounter, type CounterKind, type EligibleMask, type PodGroup } from './domain-counter.js';
import { compileLabelSelector, selectorKey, type LabelMatcher, type Labels } from './selectors.js';
import type { AgentView, PlacedPod } from './types.js';
import type { DomainIndex, WAgent } from './working-agent.js';

/** An affinity term, bound to the namespace and labels of the pod that declares it. */
export interface CompiledTerm {
  key: string;
  topologyKey: string;
  namespaces: (ns: string) => boolean;
  selector: LabelMatcher;
}

export function compileTerm(t: V1PodAffinityTerm, ownNamespace: string, ownLabels: Labels): CompiledTerm {
  let sel = t.labelSelector;
  const extra: { key: string; operator: string; values: string[] }[] = [];
  for (const k of t.matchLabelKeys ?? []) if (ownLabels[k] !== undefined) extra.push({ key: k, operator: 'In', values: [ownLabels[k]] });
  for (const k of t.mismatchLabelKeys ?? []) if (ownLabels[k] !== undefined) extra.push({ key: k, operator: 'NotIn', values: [ownLabels[k]] });
  if (sel && extra.length) sel = { ...sel, matchExpressions: [...(sel.matchExpressions ?? []), ...extra] };
  const listed = t.namespaces ?? [];
  const nsSel = t.namespaceSelector;
  let namespaces: (ns: string) => boolean;
  let nsKey: string;
  if (listed.length === 0 && !nsSel) {
    namespaces = (ns) => ns === ownNamespace;
    nsKey = `=${ownNamespace}`;
  } else {
    // The snapshot has no Namespace objects: a namespaceSelector sees only the automatic kubernetes.io/metadata.name label.
    const m = nsSel ? compileLabelSelector(nsSel) : () => false;
    const set = new Set(listed);
    namespaces = (ns) => set.has(ns) || m({ 'kubernetes.io/metadata.name': ns });
    nsKey = `${[...set].sort().join(',')}|${nsSel ? selectorKey(nsSel) : ''}`;
  }
  return {
    key: `${t.topologyKey}\u0001${nsKey}\u0001${selectorKey(sel)}`,
    topologyKey: t.topologyKey,
    namespaces,
    selector: compileLabelSelector(sel),
  };
}

export function requiredAntiTerms(p: { affinity?: PlacedPod['affinity'] }): V1PodAffinityTerm[] {
  return p.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

/** A required anti-affinity term some placed pods declare; its counter ('anti:<key>') is made when a pending pod meets it. */
export interface AntiTerm {
  key: string;
  term: CompiledTerm;
  /** The groups that declare it (the only ones its counter can count). */
  declarers: Set<PodGroup>;
}

const sigCache = new WeakMap<object, string>();
const NONE: readonly PlacedPod[] = [];

export function labelsSig(l: Labels): string {
  const keys = Object.keys(l);
  if (keys.length === 0) return '';
  keys.sort();
  let s = '';
  for (const k of keys) s += `${k}=${l[k]}\u0002`;
  return s;
}

export function podGroupKey(p: { constraintGroup?: string; ownerUid?: string; uid: string }): string {
  return p.constraintGroup ?? p.ownerUid ?? p.uid;
}

function podSig(p: PlacedPod): string {
  let s = sigCache.get(p);
  if (s === undefined) {
    const anti = requiredAntiTerms(p);
    s = `${p.namespace}\u0001${podGroupKey(p)}\u0001${labelsSig(p.labels)}\u0001${anti.length ? JSON.stringify(anti) : ''}`;
    sigCache.set(p, s);
  }
  return s;
}

/**
 * The groups (by signature) with their counts per agent, the counters made from them and the anti-affinity terms
 * their pods declare. Invariant once built: every group counts each agent's view pods plus the pods the current plan
 * added there (WAgent.added); every counter counts the groups it matches, with the domains and eligibility the table
 * has now. The table calls undoAdded, leave and enter around the changes a sync makes, then endSync.
 */
export class PodGroups {
  private groups: Map<string, PodGroup> | null = null;
  private readonly counters = new Map<string, DomainCounter>();
  private counterList: DomainCounter[] = [];
  /** The 'spread' counters: an agent arriving adds to their domains (present while an eligible agent is in them). */
  private spreadList: DomainCounter[] = [];
  /** Required anti-affinity terms declared by placed pods. */
  readonly antiTerms = new Map<string, AntiTerm>();
  /** Changes whenever a term is added or dropped (memo keys of a plan). */
  antiTermsVersion = 0;
  /** Groups that reached 0 during a sync: dropped at its end unless counted again. */
  private emptied: PodGroup[] = [];
  /** Between leave() and enter(): the agent's pods in both views, those only in the new one, and where it counted. */
  private stayed: readonly PlacedPod[] = NONE;
  private arrived: readonly PlacedPod[] = NONE;
  private places = new Int32Array(16);

  get built(): boolean {
    return this.groups !== null;
  }

  /** The groups, counted from every agent's pods on first use. */
  ensure(agents: readonly WAgent[]): Map<string, PodGroup> {
    if (this.groups) return this.groups;
    this.groups = new Map();
    for (let i = 0; i < agents.length; i++) {
      const a = agents[i];
      // indexes, not iterators: this visits every agent
      const pods = a.view.pods;
      const added = a.added;
      if (pods.length === 0 && added.length === 0) continue;
      for (let k = 0; k < pods.length; k++) this.countIn(this.groupOf(pods[k]), a.idx);
      for (let k = 0; k < added.length; k++) this.countIn(this.groupOf(added[k]), a.idx);
    }
    return this.groups;
  }

  private groupOf(p: PlacedPod): PodGroup {
    const groups = this.groups!;
    const sig = podSig(p);
    let g = groups.get(sig);
    if (g) return g;
    const antiTermKeys: string[] = [];
    g = { sig, namespace: p.namespace, labels: p.labels, groupKey: podGroupKey(p), antiTermKeys, agentCounts: new Map(), total: 0, counters: [] };
    for (const t of requiredAntiTerms(p)) {
      const c = compileTerm(t, p.namespace, p.labels);
      antiTermKeys.push(c.key);
      let e = this.antiTerms.get(c.key);
      if (!e) {
        e = { key: c.key, term: c, declarers: new Set() };
        this.antiTerms.set(c.key, e);
        this.antiTermsVersion++;
      }
      e.declarers.add(g);
    }
    for (const c of this.counterList) if (c.matches(g)) g.counters.push(c);
    groups.set(sig, g);
    return g;
  }

  private countIn(g: PodGroup, agent: number): void {
    g.agentCounts.set(agent, (g.agentCounts.get(agent) ?? 0) + 1);
    g.total++;
  }

  /** A pod placed on `agent` by the current plan (already in its WAgent.added). */
  addPod(agent: number, p: PlacedPod): void {
    const g = this.groupOf(p);
    this.countIn(g, agent);
    const cs = g.counters;
    for (let k = 0; k < cs.length; k++) cs[k].add(agent);
  }

  private removePod(agent: number, p: PlacedPod): void {
    const g = this.groups!.get(podSig(p))!;
    const n = g.agentCounts.get(agent)! - 1;
    if (n === 0) g.agentCounts.delete(agent);
    else g.agentCounts.set(agent, n);
    if (--g.total === 0) this.emptied.push(g);
    const cs = g.counters;
    for (let k = 0; k < cs.length; k++) cs[k].remove(agent);
  }

  /** Before a sync resets `a` to its (unchanged) view: the pods the last plan added there are uncounted. */
  undoAdded(a: WAgent): void {
    if (!this.groups) return;
    const added = a.added;
    for (let k = 0; k < added.length; k++) this.removePod(a.idx, added[k]);
  }

  /**
   * Before `a`'s view changes to `next` (and with it, maybe, its domains and eligibility): the pods gone from it, and
   * those the last plan added there (a.added) that the new view does not show, are uncounted, and where the agent
   * counts for each counter is noted. Then enter(a), once the table is updated.
   */
  leave(a: WAgent, next: AgentView): void {
    if (!this.groups) return;
    const old = a.view.pods;
    const pods = next.pods;
    const agent = a.idx;
    let stayed: readonly PlacedPod[] = old;
    let arrived: readonly PlacedPod[] = NONE;
    if (pods !== old) {
      // views share the pod objects that did not change: most changes keep them all, or add some at the end
      let i = 0;
      while (i < old.length && i < pods.length && old[i] === pods[i]) i++;
      if (i === old.length) arrived = pods.slice(i);
      else {
        const left = new Map<PlacedPod, number>();
        for (let k = 0; k < old.length; k++) left.set(old[k], (left.get(old[k]) ?? 0) + 1);
        const kept: PlacedPod[] = [];
        const came: PlacedPod[] = [];
        for (let k = 0; k < pods.length; k++) {
          const n = left.get(pods[k]) ?? 0;
          if (n > 0) {
            left.set(pods[k], n - 1);
            kept.push(pods[k]);
          } else came.push(pods[k]);
        }
        for (const [p, n] of left) for (let k = 0; k < n; k++) this.removePod(agent, p);
        stayed = kept;
        arrived = came;
      }
    }
    const added = a.added;
    if (added.length > 0) {
      // The plan's pods, carried out: a new pod of the same group in the view takes the place of each (a pod that
      // stayed), the others are undone.
      const came = arrived.slice();
      const matched: PlacedPod[] = [];
      for (let k = 0; k < added.length; k++) {
        const sig = podSig(added[k]);
        let j = 0;
        while (j < came.length && podSig(came[j]) !== sig) j++;
        if (j === came.length) this.removePod(agent, added[k]);
        else {
          matched.push(came[j]);
          came[j] = came[came.length - 1];
          came.pop();
        }
      }
      if (matched.length > 0) stayed = stayed.concat(matched);
      arrived = came;
    }
    this.stayed = stayed;
    this.arrived = arrived;
    const cl = this.counterList;
    if (this.places.length < cl.length) this.places = new Int32Array(cl.length * 2);
    for (let k = 0; k < cl.length; k++) this.places[k] = cl[k].placeOf(agent);
  }

  /** After `a` got its new view and the table's per-agent arrays were updated: leave's counterpart. */
  enter(a: WAgent): void {
    if (!this.groups) return;
    const agent = a.idx;
    const cl = this.counterList;
    for (let k = 0; k < cl.length; k++) {
      const c = cl[k];
      const from = this.places[k];
      const to = c.placeOf(agent);
      if (from === to) continue;
      // the agent changed domain or eligibility for this counter: its pods that stayed move with it
      let n = 0;
      for (const p of this.stayed) if (this.groups.get(podSig(p))!.counters.includes(c)) n++;
      c.move(from, to, n);
    }
    const arrived = this.arrived;
    for (let k = 0; k < arrived.length; k++) this.addPod(agent, arrived[k]);
    this.stayed = NONE;
    this.arrived = NONE;
  }

  /** An agent that arrived (the table's arrays grown and filled for it): counted with its pods. */
  arrive(a: WAgent): void {
    if (!this.groups) return;
    const sl = this.spreadList;
    for (let k = 0; k < sl.length; k++) sl[k].agentIn(a.idx);
    const pods = a.view.pods;
    for (let k = 0; k < pods.length; k++) this.addPod(a.idx, pods[k]);
  }

  /** After a sync: groups left empty are dropped (with their anti-affinity terms), counters unused since `oldest` too. */
  endSync(oldest: number): void {
    if (!this.groups) return;
    for (const g of this.emptied) {
      if (g.total !== 0 || this.groups.get(g.sig) !== g) continue;
      this.groups.delete(g.sig);
      for (const key of g.antiTermKeys) {
        const e = this.antiTerms.get(key);
        if (!e) continue;
        e.declarers.delete(g);
        if (e.declarers.size > 0) continue;
        this.antiTerms.delete(key); // its counter, unused from now on, goes with the others unused
        this.antiTermsVersion++;
      }
    }
    this.emptied.length = 0;
    for (const c of this.counterList) if (c.usedInPlan < oldest) this.dropCounter(c);
    this.prune();
  }

  private dropCounter(c: DomainCounter): void {
    if (this.counters.get(c.key) === c) this.counters.delete(c.key);
  }

  /** Lists and groups forget the counters dropped from the map. */
  private prune(): void {
    const live = (c: DomainCounter): boolean => this.counters.get(c.key) === c;
    if (this.counterList.length === this.counters.size) return;
    this.counterList = this.counterList.filter(live);
    this.spreadList = this.spreadList.filter(live);
    for (const g of this.groups!.values()) if (g.counters.length > 0) g.counters = g.counters.filter(live);
  }

  /**
   * The counter with this key, built from all groups on first use and kept. `key` must identify kind, predicate and
   * eligibility; the index and mask are the table's (kept with it): a counter made with others is made again.
   */
  counter(
    agents: readonly WAgent[],
    plan: number,
    key: string,
    kind: CounterKind,
    index: DomainIndex,
    matches: (g: PodGroup) => boolean,
    eligible: EligibleMask | null,
    /** When given: the only groups that can match (others are not tested). */
    candidates?: Iterable<PodGroup>,
  ): DomainCounter {
    let c = this.counters.get(key);
    if (c && c.index === index && c.eligible === eligible) {
      c.usedInPlan = plan;
      c.fitIndex();
      return c;
    }
    if (c) {
      this.dropCounter(c);
      this.prune();
    }
    const groups = this.ensure(agents);
    c = new DomainCounter(key, kind, index, matches, eligible);
    c.usedInPlan = plan;
    for (const g of candidates ?? groups.values()) {
      if (!matches(g)) continue;
      g.counters.push(c);
      for (const [a, n] of g.agentCounts) c.load(a, n);
    }
    c.finish();
    this.counters.set(key, c);
    this.counterList.push(c);
    if (kind === 'spread') this.spreadList.push(c);
    return c;
  }

  /** A counter like `c` counted afresh from these groups (for tests: a kept counter must equal it). */
  recount(agents: readonly WAgent[], c: DomainCounter): DomainCounter {
    const fresh = new DomainCounter(c.key, c.kind, c.index, c.matches, c.eligible);
    for (const g of this.ensure(agents).values()) if (c.matches(g)) for (const [a, n] of g.agentCounts) fresh.load(a, n);
    fresh.finish();
    return fresh;
  }

  /** The kept counters (for tests). */
  allCounters(): DomainCounter[] {
    return [...this.counters.values()];
  }

  /** The groups as plain data: per signature, pods per agent id, and anti-affinity terms with their declarers (for tests). */
  inspect(agents: readonly WAgent[]): { groups: Record<string, Record<string, number>>; antiTerms: Record<string, number> } {
    const groups: Record<string, Record<string, number>> = {};
    for (const [sig, g] of this.groups ?? []) {
      const per: Record<string, number> = {};
      for (const [a, n] of [...g.agentCounts].sort((x, y) => x[0] - y[0])) per[agents[a].id] = n;
      groups[sig] = per;
    }
    const antiTerms: Record<string, number> = {};
    for (const [k, e] of this.antiTerms) antiTerms[k] = e.declarers.size;
    return { groups, antiTerms };
  }
}
