// The working copy plan() updates as it places pods: free resources per agent and role, ports, pod counts, and
// counters of pods per topology domain (built lazily, kept up to date incrementally) so that every pod of a cycle
// sees the ones placed before it without rescanning all pods.
import type { V1PodAffinityTerm } from '@kubernetes/client-node';
import { AgentTable, type DomainIndex, type WAgent } from './agent-table.js';
import { compileLabelSelector, selectorKey, type LabelMatcher, type Labels } from './selectors.js';
import type { AgentView, PlacedPod, PlanConfig } from './types.js';
import { LABEL_AGENT_ID, LABEL_ATTRIBUTE_PREFIX } from '../names.js';

export { fieldValue, slotOf, AgentTable, type DomainIndex, type SearchCache, type Slot, type WAgent } from './agent-table.js';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';

/** The labels a kubelet's Node on this agent carries (ARCHITECTURE.md §4). */
export function agentLabels(a: { id: string; hostname: string; zone?: string; region?: string; attributes?: Record<string, string> }): Labels {
  const l: Labels = { [LABEL_HOSTNAME]: a.hostname, [LABEL_AGENT_ID]: a.id };
  if (a.zone !== undefined) l[LABEL_ZONE] = a.zone;
  if (a.region !== undefined) l[LABEL_REGION] = a.region;
  for (const [k, v] of Object.entries(a.attributes ?? {})) l[LABEL_ATTRIBUTE_PREFIX + k] = v;
  return l;
}

/** Pods that look alike for every selector: same namespace, sibling group, labels and anti-affinity terms. */
export interface PodGroup {
  namespace: string;
  labels: Labels;
  groupKey: string;
  /** Keys of the required anti-affinity terms these pods declare. */
  antiTermKeys: string[];
  agentCounts: Map<number, number>;
  counters: DomainCounter[];
}

export type CounterKind = 'plain' | 'spread' | 'groups';

/**
 * Pods matching a predicate, counted per domain. 'spread': only eligible agents count, every eligible domain
 * exists (with 0), min is tracked; 'groups' (Marathon): a domain exists once a pod is in it, pods on agents
 * without the field are counted in `missing`; 'plain': counts only.
 */
export class DomainCounter {
  readonly counts: Int32Array;
  readonly present: Uint8Array;
  presentCount = 0;
  missing = 0;
  total = 0;
  /** Smallest count over present domains (0 when none); 'spread' and 'groups' only. */
  min = 0;
  private hist = new Map<number, number>();

  constructor(
    readonly key: string,
    readonly kind: CounterKind,
    readonly index: DomainIndex,
    readonly matches: (g: PodGroup) => boolean,
    readonly eligible: Uint8Array | null,
  ) {
    this.counts = new Int32Array(index.names.length);
    this.present = new Uint8Array(index.names.length);
    if (kind === 'spread') {
      for (let a = 0; a < index.ids.length; a++) {
        const d = index.ids[a];
        if (d >= 0 && (!eligible || eligible[a]) && !this.present[d]) {
          this.present[d] = 1;
          this.presentCount++;
        }
      }
    }
  }

  /** Bulk load before first use; call finish() afterwards. */
  load(agent: number, n: number): void {
    if (this.eligible && !this.eligible[agent]) return;
    const d = this.index.ids[agent];
    this.total += n;
    if (d < 0) {
      this.missing += n;
      return;
    }
    this.counts[d] += n;
    if (this.kind === 'groups' && !this.present[d]) {
      this.present[d] = 1;
      this.presentCount++;
    }
  }

  finish(): void {
    if (this.kind === 'plain') return;
    this.hist.clear();
    for (let d = 0; d < this.counts.length; d++) {
      if (!this.present[d]) continue;
      this.hist.set(this.counts[d], (this.hist.get(this.counts[d]) ?? 0) + 1);
    }
    this.recomputeMin();
  }

  private recomputeMin(): void {
    let m = Infinity;
    for (const [c, n] of this.hist) if (n > 0 && c < m) m = c;
    this.min = m === Infinity ? 0 : m;
  }

  add(agent: number): void {
    if (this.eligible && !this.eligible[agent]) return;
    const d = this.index.ids[agent];
    this.total++;
    if (d < 0) {
      this.missing++;
      return;
    }
    const c = this.counts[d];
    this.counts[d] = c + 1;
    if (this.kind === 'plain') return;
    if (!this.present[d]) {
      // only 'groups' domains appear on first pod
      this.present[d] = 1;
      this.presentCount++;
      this.hist.set(1, (this.hist.get(1) ?? 0) + 1);
      this.min = this.presentCount === 1 ? 1 : Math.min(this.min, 1);
      return;
    }
    const left = (this.hist.get(c) ?? 0) - 1;
    if (left === 0) this.hist.delete(c);
    else this.hist.set(c, left);
    this.hist.set(c + 1, (this.hist.get(c + 1) ?? 0) + 1);
    if (c === this.min && left === 0) this.recomputeMin();
  }
}

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

/** A required anti-affinity term some placed pods declare; its counter is built when a pending pod meets it. */
interface AntiTerm {
  key: string;
  term: CompiledTerm;
  declarers: PodGroup[];
  counter?: DomainCounter;
}

const sigCache = new WeakMap<object, string>();

function labelsSig(l: Labels): string {
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

export class CycleState {
  readonly agents: WAgent[];
  /** Largest free cpus and mem of any agent at the start of the cycle, to scale resource scores. */
  readonly maxFree: { cpus: number; mem: number };
  nextStart = 0;
  nextStartKubelet = 0;
  /** Agents with a kubelet, running or launched by this plan. */
  readonly kubeletAgents: WAgent[];
  private groups: Map<string, PodGroup> | null = null;
  private counters = new Map<string, DomainCounter>();
  private counterList: DomainCounter[] = [];
  /** Required anti-affinity terms declared by placed pods, each with a counter of its declarers per domain. */
  private readonly antiTerms = new Map<string, AntiTerm>();
  antiTermsVersion = 0;
  /** Per-cycle memo for anything keyed by a text signature (compiled selectors, spread terms, …). */
  readonly memo = new Map<string, unknown>();
  /** The working copy, kept across plans when the caller passes one in (see agent-table.ts). */
  readonly table: AgentTable;

  constructor(
    views: readonly AgentView[],
    readonly cfg: PlanConfig,
    table?: AgentTable,
  ) {
    this.table = table ?? new AgentTable();
    this.table.sync(views, cfg);
    this.agents = this.table.agents;
    this.kubeletAgents = this.table.kubeletAgents;
    this.maxFree = this.table.maxFree();
    this.hasAntiAffinityPods = this.table.hasAntiAffinityPods;
    this.hasPreferNoSchedule = this.table.hasPreferNoSchedule;
    this.hasAvoidPods = this.table.hasAvoidPods;
  }

  /** Numbers the pods of this plan (and of the table's earlier plans): per-agent caches compare it. */
  nextPodSeq(): number {
    return ++this.table.podSeq;
  }

  /** plan() drew on this agent's working copy (resources, ports, pods, kubelet): call after the change. */
  touch(a: WAgent): void {
    this.table.touch(a);
  }

  /** An array over agents computed from their views alone, kept across plans (see AgentTable.perAgent). */
  perAgent<T>(key: string, make: (n: number) => T, fill: (value: T, a: WAgent) => void, grow?: (value: T, from: number, to: number) => T): T {
    return this.table.perAgent(key, make, fill, grow);
  }

  /** Some agent's Node names controllers in preferAvoidPods (else that score is skipped). */
  readonly hasAvoidPods: boolean;

  /** Some agent has a PreferNoSchedule taint (else that score is skipped). */
  readonly hasPreferNoSchedule: boolean;

  /** Some pod on some agent declares required anti-affinity (else symmetric checks are skipped). */
  private hasAntiAffinityPods: boolean;

  /** Counters (per domain) of the placed pods whose required anti-affinity terms select a pod with these labels. */
  antiAffinityAgainst(namespace: string, labels: Labels): { term: CompiledTerm; counter: DomainCounter }[] {
    if (!this.hasAntiAffinityPods) return [];
    this.ensureGroups();
    return this.memoize(`against:${this.antiTermsVersion}:${namespace}\u0001${labelsSig(labels)}`, () => {
      const out: AntiTerm[] = [];
      for (const e of this.antiTerms.values()) if (e.term.namespaces(namespace) && e.term.selector(labels)) out.push(e);
      return out;
    }).map((e) => {
      // Counters only for the terms some pending pod meets: most declared terms never concern this cycle.
      const key = e.key;
      e.counter ??= this.counter(`anti:${key}`, 'plain', this.domainIndex(`label:${e.term.topologyKey}`), (x) => x.antiTermKeys.includes(key), null, e.declarers);
      return { term: e.term, counter: e.counter };
    });
  }

  memoize<T>(key: string, make: () => T): T {
    let v = this.memo.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      this.memo.set(key, v);
    }
    return v;
  }

  /** spec: 'label:<key>' or 'field:<Marathon field>'. */
  domainIndex(spec: string): DomainIndex {
    return this.table.domainIndex(spec);
  }

  private ensureGroups(): Map<string, PodGroup> {
    if (this.groups) return this.groups;
    this.groups = new Map();
    const agents = this.agents;
    for (let i = 0; i < agents.length; i++) {
      const a = agents[i];
      // indexes, not iterators: this visits every agent
      const pods = a.view.pods;
      const added = a.added;
      if (pods.length === 0 && added.length === 0) continue;
      for (let k = 0; k < pods.length; k++) this.countIn(pods[k], a.idx);
      for (let k = 0; k < added.length; k++) this.countIn(added[k], a.idx);
    }
    const declarers = new Map<string, PodGroup[]>();
    for (const g of this.groups.values()) for (const k of g.antiTermKeys) (declarers.get(k) ?? declarers.set(k, []).get(k)!).push(g);
    for (const [k, gs] of declarers) this.registerAntiTerm(k, gs);
    return this.groups;
  }

  private countIn(p: PlacedPod, agent: number): void {
    const g = this.groupOf(p);
    g.agentCounts.set(agent, (g.agentCounts.get(agent) ?? 0) + 1);
  }

  private groupOf(p: PlacedPod): PodGroup {
    const groups = this.groups!;
    const sig = podSig(p);
    let g = groups.get(sig);
    if (g) return g;
    const antiTermKeys: string[] = [];
    const anti = requiredAntiTerms(p);
    g = { namespace: p.namespace, labels: p.labels, groupKey: podGroupKey(p), antiTermKeys, agentCounts: new Map(), counters: [] };
    for (const t of anti) {
      const c = compileTerm(t, p.namespace, p.labels);
      antiTermKeys.push(c.key);
      if (!this.antiTerms.has(c.key)) this.memo.set(`antiterm:${c.key}`, c);
    }
    for (const c of this.counterList) if (c.matches(g)) g.counters.push(c);
    groups.set(sig, g);
    return g;
  }

  private registerAntiTerms(g: PodGroup): void {
    for (const key of g.antiTermKeys) {
      const e = this.antiTerms.get(key);
      if (!e) this.registerAntiTerm(key, [g]);
      else if (!e.counter) e.declarers.push(g); // once the counter exists, it finds new groups itself
    }
  }

  /** `declarers`: every group that declares the term (loading from them only keeps this O(groups), not O(groups × terms)). */
  private registerAntiTerm(key: string, declarers: PodGroup[]): void {
    const term = this.memo.get(`antiterm:${key}`) as CompiledTerm;
    this.antiTerms.set(key, { key, term, declarers });
    this.antiTermsVersion++;
  }

  /** The counter with this key, built from all pods on first use. `key` must identify kind, index, predicate and eligibility. */
  counter(
    key: string,
    kind: CounterKind,
    index: DomainIndex,
    matches: (g: PodGroup) => boolean,
    eligible: Uint8Array | null,
    /** When given: the only groups that can match (others are not tested). */
    candidates?: Iterable<PodGroup>,
  ): DomainCounter {
    let c = this.counters.get(key);
    if (c) return c;
    const groups = this.ensureGroups();
    c = this.counters.get(key); // ensureGroups may have created it (anti-affinity terms)
    if (c) return c;
    c = new DomainCounter(key, kind, index, matches, eligible);
    for (const g of candidates ?? groups.values()) {
      if (!matches(g)) continue;
      g.counters.push(c);
      for (const [a, n] of g.agentCounts) c.load(a, n);
    }
    c.finish();
    this.counters.set(key, c);
    this.counterList.push(c);
    return c;
  }

  /** Records a pod placed on an agent in every counter that counts it. */
  addPod(a: WAgent, p: PlacedPod): void {
    a.added.push(p);
    if (!this.groups) {
      if (requiredAntiTerms(p).length > 0) {
        this.hasAntiAffinityPods = true;
        this.ensureGroups(); // counts p too: it is in a.added already
      }
      return;
    }
    if (requiredAntiTerms(p).length > 0) this.hasAntiAffinityPods = true;
    const g = this.groupOf(p);
    this.registerAntiTerms(g); // before counting p: a new term's counter loads from the groups as they were
    g.agentCounts.set(a.idx, (g.agentCounts.get(a.idx) ?? 0) + 1);
    for (const c of g.counters) c.add(a.idx);
  }
}
