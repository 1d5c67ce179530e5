// The working copy plan() updates as it places pods: free resources per agent and role, ports, pod counts, and
// counters of pods per topology domain (built lazily, kept up to date incrementally) so that every pod of a cycle
// sees the ones placed before it without rescanning all pods.
import { AgentTable, type DomainIndex, type WAgent } from './agent-table.js';
import type { CounterKind, DomainCounter, EligibleMask, PodGroup } from './domain-counter.js';
import { labelsSig, requiredAntiTerms, type AntiTerm, type CompiledTerm } from './pod-groups.js';
import type { Labels } from './selectors.js';
import type { AgentView, PlacedPod, PlanConfig } from './types.js';
import { LABEL_AGENT_ID, LABEL_ATTRIBUTE_PREFIX } from '../names.js';

export { fieldValue, slotOf, AgentTable, type DomainIndex, type SearchCache, type Slot, type WAgent } from './agent-table.js';
export { DomainCounter, type CounterKind, type EligibleMask, type PodGroup } from './domain-counter.js';
export { compileTerm, podGroupKey, requiredAntiTerms, type CompiledTerm } from './pod-groups.js';

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

export class CycleState {
  readonly agents: WAgent[];
  /** Largest free cpus and mem of any agent at the start of the cycle, to scale resource scores. */
  readonly maxFree: { cpus: number; mem: number };
  nextStart = 0;
  nextStartKubelet = 0;
  /** Agents with a kubelet, running or launched by this plan. */
  readonly kubeletAgents: WAgent[];
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
    const groups = this.table.groups;
    groups.ensure(this.agents);
    return this.memoize(`against:${groups.antiTermsVersion}:${namespace}\u0001${labelsSig(labels)}`, () => {
      const out: AntiTerm[] = [];
      for (const e of groups.antiTerms.values()) if (e.term.namespaces(namespace) && e.term.selector(labels)) out.push(e);
      return out;
    }).map((e) => {
      // Counters only for the terms some pending pod meets: most declared terms never concern this cycle.
      const key = e.key;
      const counter = this.counter(`anti:${key}`, 'plain', this.domainIndex(`label:${e.term.topologyKey}`), (x) => x.antiTermKeys.includes(key), null, e.declarers);
      return { term: e.term, counter };
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

  /**
   * The counter with this key, built from all pods on first use and kept with the table (pod-groups.ts). `key` must
   * identify kind, index, predicate and eligibility.
   */
  counter(
    key: string,
    kind: CounterKind,
    index: DomainIndex,
    matches: (g: PodGroup) => boolean,
    eligible: EligibleMask | null,
    /** When given: the only groups that can match (others are not tested). */
    candidates?: Iterable<PodGroup>,
  ): DomainCounter {
    return this.table.groups.counter(this.agents, this.table.plans, key, kind, index, matches, eligible, candidates);
  }

  /** Records a pod placed on an agent in every counter that counts it. */
  addPod(a: WAgent, p: PlacedPod): void {
    a.added.push(p);
    const anti = requiredAntiTerms(p).length > 0;
    if (anti) this.hasAntiAffinityPods = true;
    const groups = this.table.groups;
    if (groups.built) groups.addPod(a.idx, p);
    else if (anti) groups.ensure(this.agents); // counts p too: it is in a.added already
  }
}
