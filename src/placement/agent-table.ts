// The agents' working copy that plan() draws on, kept from one plan to the next: only the agents whose view changed
// (a new AgentView object: offers used or added, pods placed or gone, labels, taints) or that the previous plan drew
// on are rebuilt, and the per-agent arrays derived from views (static filter masks, eligibility masks, domain indexes,
// capacities) are updated at those agents only. Without a table passed in, plan() builds a fresh one: the same result.
import { domainBitsMismatch, domainIndexParts } from './domain-index.js';
import { FreeColumns } from './free-columns.js';
import { PodGroups } from './pod-groups.js';
import { cacheBitsMismatch, SpecCaches, type SearchCache } from './spec-caches.js';
import type { AgentView, PlanConfig } from './types.js';
import { grown, makeAgent, resetAgent, type DomainIndex, type WAgent } from './working-agent.js';

export { fieldValue, grown, makeAgent, slotOf, type DomainIndex, type Slot, type WAgent } from './working-agent.js';
export type { SearchCache } from './spec-caches.js';

/**
 * Something computed for every agent from its view alone; `update` recomputes one agent's part, `grow` makes room for
 * agents that arrived (their parts are then filled by `update`).
 */
interface Derived {
  value: unknown;
  update: (a: WAgent) => void;
  grow: (from: number, to: number) => void;
  usedInPlan: number;
}


/**
 * What the agent holds for kube-mesos in all: the Node's `capacity` when the view gives it, else what is offered plus
 * what kube-mesos' pods there requested (Mesos shows a framework its offers, not the agent's size). Into cap[at], cap[at + 1].
 */
function capacityOf(v: AgentView, cap: Float64Array, at: number): void {
  const given = v.capacity;
  if (given) {
    cap[at] = given.cpus;
    cap[at + 1] = given.mem;
    return;
  }
  let cpus = 0;
  let mem = 0;
  const offered = v.offered;
  for (let k = 0; k < offered.length; k++) {
    cpus += offered[k].res.cpus;
    mem += offered[k].res.mem;
  }
  const pods = v.pods;
  for (let k = 0; k < pods.length; k++) {
    const r = pods[k].requests;
    if (!r) continue;
    cpus += r.cpus;
    mem += r.mem;
  }
  cap[at] = cpus;
  cap[at + 1] = mem;
}

const FLAG_ANTI = 1;
const FLAG_PREFER_NO_SCHEDULE = 2;
const FLAG_AVOID = 4;

function flagsOf(v: AgentView): number {
  let f = 0;
  for (const p of v.pods) if (p.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length) f |= FLAG_ANTI;
  for (const t of v.taints) if (t.effect === 'PreferNoSchedule') f |= FLAG_PREFER_NO_SCHEDULE;
  if (v.avoidControllers !== undefined && v.avoidControllers.length > 0) f |= FLAG_AVOID;
  return f;
}

/** Derived arrays not used by this many plans in a row are dropped (pod specs come and go). */
const KEEP_UNUSED_PLANS = 20;

/** AgentTable.inspect()'s answer. */
export interface TableState {
  agents: Record<string, unknown>[];
  kubeletAgents: string[];
  maxFree: { cpus: number; mem: number };
  flags: boolean[];
  derived: Record<string, unknown>;
}

function plainDerived(v: unknown, n: number): unknown {
  if (ArrayBuffer.isView(v)) return Array.from(v as Uint8Array, (x) => (Number.isNaN(x) ? 'NaN' : x));
  const o = v as Record<string, unknown>;
  // a DomainIndex: each agent's domain by name (numbers depend on the order domains were first seen)
  if (o.ids instanceof Int32Array && Array.isArray(o.names)) {
    const names = o.names as string[];
    return Array.from(o.ids.subarray(0, n), (d) => (d < 0 ? null : names[d]));
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = ArrayBuffer.isView(o[k]) ? plainDerived(o[k], n) : o[k];
  return out;
}

export interface AgentTableOptions {
  /** Keep per-spec search results (search-cache.ts); off only to compare against the uncached search. Default on. */
  searchCache?: boolean;
  /**
   * Memory for those results (13 bytes per agent and spec): beyond it the least recently used spec's are dropped.
   * Default 64 MiB (~100 specs at 50 000 agents); at least two specs are kept.
   */
  searchCacheBytes?: number;
}

const SEARCH_CACHE_BYTES = 64 * 2 ** 20;

export class AgentTable {
  agents: WAgent[] = [];
  /** Agents with a kubelet, running or launched by the current plan, in agent order. */
  kubeletAgents: WAgent[] = [];
  /** Numbers pods across plans (per-agent caches compare it, and they outlive one plan). */
  podSeq = 0;
  /** Plans synced so far. */
  plans = 0;
  /** Agents (re)built from their view by the last sync(): a measure of the incremental work. */
  rebuilt = 0;
  /**
   * Agents the searches visited, and examined afresh (not answered by the per-spec cache), since the table was made;
   * searches that went 32 agents a word (Search.scanWords).
   */
  readonly searchStats = { visited: 0, examined: 0, byWord: 0 };
  private cfg: PlanConfig | undefined;
  private touched: WAgent[] = [];
  /** The view each agent was last synced to (agents[i].view), in one array: compared without loading the agents. */
  private views: AgentView[] = [];
  /** 1 where the agent's view gives it a kubelet (listKubelets() reads it; a plan's new kubelets are undone by reset). */
  private kub = new Uint8Array(0);
  private isTouched = new Uint8Array(0);
  private kubeletsChanged = true;
  private derived = new Map<string, Derived>();
  private cpus = new Float64Array(0);
  private mem = new Float64Array(0);
  private maxDirty = true;
  /** The largest cpus and mem (0 when none; `max` says 1 then), valid unless maxDirty. */
  private maxC = 0;
  private maxM = 0;
  private max = { cpus: 1, mem: 1 };
  private flags = new Uint8Array(0);
  /**
   * Per agent [cpus, mem] it holds for kube-mesos (balanced allocation's denominator), from its view: made when the agent
   * arrives or its view changes, not on a cycle's first visit.
   */
  capacity = new Float64Array(0);
  /** The working copies' free resources, pod counts and kubelets as columns (free-columns.ts), kept equal to them. */
  readonly free = new FreeColumns();
  private flagCounts = [0, 0, 0];
  /**
   * Per agent, a number that changes whenever its working copy may have (rebuilt, reset, drawn on by plan()); unique
   * across the table's life, so per-spec caches compare it (never 0).
   */
  ver = new Int32Array(0);
  private verSeq = 0;
  private readonly searchCaches: SpecCaches;
  readonly searchCacheEnabled: boolean;
  /**
   * Lists plan() empties and refills for every pod, kept with the table: arrays made afresh for each plan start out
   * typed for small integers, and V8 dropped plan()'s optimised code at the first object pushed into each whenever its
   * type feedback had been lost (after full collections; a recompile each time).
   */
  readonly podLists: unknown[][] = [[], [], [], []];
  /** The placed pods in groups, and the spread and affinity counters made from them, kept up to date by sync(). */
  groups = new PodGroups();

  constructor(opts: AgentTableOptions = {}) {
    this.searchCacheEnabled = opts.searchCache ?? true;
    this.searchCaches = new SpecCaches(opts.searchCacheBytes ?? SEARCH_CACHE_BYTES);
  }

  /** Specs with search results kept. */
  get searchCacheCount(): number {
    return this.searchCaches.size;
  }

  /**
   * Brings the working copy to `views`: agents whose view object changed are rebuilt, the ones the last plan drew on
   * reset, agents that arrived after the known ones (the scheduler lists agents in the order they first offered) added
   * with every kept array and cache grown, not rebuilt. An agent gone or moved renumbers everything (a full rebuild).
   * Safe to call without a plan (agents arriving): plan() calls it again, and an unchanged agent costs nothing.
   */
  sync(views: readonly AgentView[], cfg: PlanConfig): void {
    this.plans++;
    this.rebuilt = 0;
    const n = views.length;
    const m = this.agents.length;
    let full = cfg !== this.cfg || n < m || m === 0;
    // The views of the last sync, side by side with `views`: no agent object is loaded for an unchanged agent.
    const known = this.views;
    if (!full) {
      for (let i = 0; i < m; i++) {
        if (views[i] !== known[i] && views[i].id !== known[i].id) {
          full = true; // an agent went or moved: renumber everything
          break;
        }
      }
    }
    if (full) return this.rebuildAll(views, cfg);
    const groups = this.groups;
    for (const a of this.touched) {
      if (views[a.idx] === a.view) groups.undoAdded(a); // the plan's pods, before the reset forgets them (else: leave())
      if (a.newKubelet) this.kubeletsChanged = true;
      this.isTouched[a.idx] = 0;
      if (views[a.idx] === a.view) {
        resetAgent(a, a.view, cfg); // back to its view: kub[] already says so
        this.free.write(a);
      } // else rebuilt below
      this.bump(a.idx);
    }
    this.touched.length = 0;
    for (let i = 0; i < m; i++) {
      const v = views[i];
      if (v === known[i]) continue;
      const a = this.agents[i];
      known[i] = v;
      const had = a.hasKubelet;
      groups.leave(a, v); // with the old view's pods, domains and eligibility
      resetAgent(a, v, cfg);
      this.free.write(a);
      this.kub[i] = a.hasKubelet ? 1 : 0;
      this.bump(i);
      if (had !== a.hasKubelet) this.kubeletsChanged = true;
      this.agentChanged(a);
      for (const d of this.derived.values()) d.update(a);
      groups.enter(a);
      this.rebuilt++;
    }
    if (n > m) this.addAgents(views, m, cfg);
    if (this.kubeletsChanged) this.listKubelets();
    for (const [k, d] of this.derived) if (this.plans - d.usedInPlan > KEEP_UNUSED_PLANS) this.derived.delete(k);
    groups.endSync(this.plans - KEEP_UNUSED_PLANS); // its counters were used no later than the arrays they read
    this.searchCaches.dropUnused(this.plans, KEEP_UNUSED_PLANS);
  }

  private rebuildAll(views: readonly AgentView[], cfg: PlanConfig): void {
    this.cfg = cfg;
    this.derived.clear();
    this.groups = new PodGroups(); // built again on first need
    this.searchCaches.clear();
    this.touched.length = 0;
    const n = views.length;
    this.ver = new Int32Array(n);
    for (let i = 0; i < n; i++) this.ver[i] = this.nextVer();
    this.agents = new Array<WAgent>(n);
    this.views = views.slice(); // a copy: the caller's array may be reused
    this.kub = new Uint8Array(n);
    this.cpus = new Float64Array(n);
    this.mem = new Float64Array(n);
    this.capacity = new Float64Array(n * 2);
    this.flags = new Uint8Array(n);
    this.isTouched = new Uint8Array(n);
    this.flagCounts = [0, 0, 0];
    this.free.reset(n);
    for (let i = 0; i < n; i++) {
      const a = makeAgent(views[i], i, cfg);
      this.agents[i] = a;
      this.free.write(a);
      this.kub[i] = a.hasKubelet ? 1 : 0;
      this.agentChanged(a);
    }
    this.rebuilt = n;
    this.maxDirty = true;
    this.maxFree(); // now, so that agents arriving next only raise it
    this.listKubelets();
  }

  /** Agents m..n-1 arrived: the per-agent arrays grow (entries of the known agents kept), the new ones are filled. */
  private addAgents(views: readonly AgentView[], m: number, cfg: PlanConfig): void {
    const n = views.length;
    this.ver = grown(this.ver, m, n);
    this.cpus = grown(this.cpus, m, n);
    this.mem = grown(this.mem, m, n);
    this.capacity = grown(this.capacity, m, n);
    this.flags = grown(this.flags, m, n);
    this.isTouched = grown(this.isTouched, m, n);
    this.kub = grown(this.kub, m, n);
    this.free.grow(n);
    for (const d of this.derived.values()) d.grow(m, n);
    this.searchCaches.grow(m, n); // the new agents' entries stale
    for (let i = m; i < n; i++) {
      const a = makeAgent(views[i], i, cfg);
      this.agents.push(a);
      this.views.push(views[i]);
      this.free.write(a);
      this.kub[i] = a.hasKubelet ? 1 : 0;
      this.ver[i] = this.nextVer();
      this.agentChanged(a);
      for (const d of this.derived.values()) d.update(a);
      this.groups.arrive(a);
      if (a.hasKubelet) this.kubeletAgents.push(a); // arrivals come last: the list stays in agent order
    }
    this.rebuilt += n - m;
  }

  private agentChanged(a: WAgent): void {
    let c = 0;
    let m = 0;
    for (const s of a.slots) {
      c += s.cpus;
      m += s.mem;
    }
    const i = a.idx;
    // an agent that may have been the largest makes the maxima to be recomputed; one that was not only raises them
    // (agents arriving: no pass over all agents in the next plan)
    if (this.cpus[i] >= this.maxC || this.mem[i] >= this.maxM) this.maxDirty = true;
    else if (!this.maxDirty && (c > this.maxC || m > this.maxM)) this.setMax(Math.max(this.maxC, c), Math.max(this.maxM, m));
    this.cpus[i] = c;
    this.mem[i] = m;
    capacityOf(a.view, this.capacity, i * 2);
    const f = flagsOf(a.view);
    const old = this.flags[i];
    if (f !== old) {
      for (let b = 0; b < 3; b++) this.flagCounts[b] += ((f >> b) & 1) - ((old >> b) & 1);
      this.flags[i] = f;
    }
  }

  private listKubelets(): void {
    this.kubeletsChanged = false;
    const ka: WAgent[] = [];
    const kub = this.kub;
    for (let i = 0; i < kub.length; i++) if (kub[i] !== 0) ka.push(this.agents[i]); // bytes, not 50 000 agent objects
    this.kubeletAgents = ka;
  }

  /** plan() drew on this agent's working copy (call after the change): reset it before the next plan. */
  touch(a: WAgent): void {
    this.bump(a.idx); // every time: the next pod must not reuse what the search cached before the change
    this.free.write(a);
    if (this.isTouched[a.idx]) return;
    this.isTouched[a.idx] = 1;
    this.touched.push(a);
  }

  /** Largest free cpus and mem of any agent as its view gives them (at least 1). */
  maxFree(): { cpus: number; mem: number } {
    if (this.maxDirty) {
      let c = 0;
      let m = 0;
      for (let i = 0; i < this.cpus.length; i++) {
        if (this.cpus[i] > c) c = this.cpus[i];
        if (this.mem[i] > m) m = this.mem[i];
      }
      this.setMax(c, m);
      this.maxDirty = false;
    }
    return this.max;
  }

  private setMax(c: number, m: number): void {
    this.maxC = c;
    this.maxM = m;
    this.max = { cpus: c || 1, mem: m || 1 };
  }

  get hasAntiAffinityPods(): boolean {
    return this.flagCounts[0] > 0;
  }
  get hasPreferNoSchedule(): boolean {
    return this.flagCounts[1] > 0;
  }
  get hasAvoidPods(): boolean {
    return this.flagCounts[2] > 0;
  }

  /**
   * An array over agents computed from their views alone, made once and then kept: `fill(value, a)` computes agent a's
   * entry, again whenever a's view changes or a arrives. `key` must name everything the entries depend on besides the
   * view. `grow(value, from, to)` makes room when agents arrive (default: a typed array with as many entries per agent).
   */
  perAgent<T>(key: string, make: (n: number) => T, fill: (value: T, a: WAgent) => void, grow?: (value: T, from: number, to: number) => T): T {
    let d = this.derived.get(key);
    if (!d) {
      const value = make(this.agents.length);
      if (!grow && !ArrayBuffer.isView(value)) throw new TypeError(`perAgent(${key}): a value that is not a typed array needs a grow function`);
      const agents = this.agents;
      for (let i = 0; i < agents.length; i++) fill(value, agents[i]); // runs once, unoptimised: an iterator allocates per agent
      const made: Derived = {
        value,
        update: (a) => fill(made.value as T, a),
        // typed arrays by default (one or more entries per agent); other shapes say how
        grow: (from, to) => {
          made.value = grow ? grow(made.value as T, from, to) : grown(made.value as Uint8Array, from, to);
        },
        usedInPlan: this.plans,
      };
      d = made;
      this.derived.set(key, d);
    }
    d.usedInPlan = this.plans;
    return d.value as T;
  }

  /**
   * The working copy as plain data, for invariant tests and debugging: what plans read, independent of how it was
   * reached (domain numbers are given as names, derived entries by key). Equal for a kept table and a fresh one synced
   * to the same views and drawn on by the same plans.
   */
  inspect(): TableState {
    const agents = this.agents.map((a, i) => ({
      id: a.id,
      name: a.name,
      labels: a.labels,
      slots: a.slots.map((x) => ({ role: x.role, cpus: x.cpus, mem: x.mem, disk: x.disk, ports: x.ports, scalars: x.scalars })),
      hasKubelet: a.hasKubelet,
      newKubelet: a.newKubelet,
      podCount: a.podCount,
      maxPods: a.maxPods,
      usedPorts: a.usedPorts ? [...a.usedPorts].sort((x, y) => x - y) : null,
      added: a.added.map((p) => p.uid),
      viewCpus: this.cpus[i],
      viewMem: this.mem[i],
      capacity: [this.capacity[i * 2], this.capacity[i * 2 + 1]],
      flags: this.flags[i],
      free: this.free.row(i),
    }));
    const derived: Record<string, unknown> = {};
    for (const [k, d] of this.derived) derived[k] = plainDerived(d.value, this.agents.length);
    return {
      agents,
      kubeletAgents: this.kubeletAgents.map((a) => a.id),
      maxFree: { ...this.maxFree() },
      flags: [this.hasAntiAffinityPods, this.hasPreferNoSchedule, this.hasAvoidPods],
      derived,
    };
  }

  /** Agent i's working copy may have changed: a new version, and its search cache entries stale. */
  private bump(i: number): void {
    this.ver[i] = this.nextVer();
    this.searchCaches.stale(i);
  }

  /**
   * For tests: the search caches and domain indexes whose bitsets disagree with the entries they summarise (the
   * search trusts the bits: SearchCache.fresh and okBits, DomainIndex.bits), with the first agent that differs.
   */
  bitsMismatches(): string[] {
    const out: string[] = [];
    this.searchCaches.all().forEach((c, k) => {
      const i = cacheBitsMismatch(c, this.ver);
      if (i >= 0) out.push(`search cache ${k} at agent ${i}`);
    });
    for (const [key, d] of this.derived) {
      const v = d.value as Partial<DomainIndex>;
      if (v.ids instanceof Int32Array && v.bits !== undefined) {
        const i = domainBitsMismatch(v as DomainIndex);
        if (i >= 0) out.push(`${key} at agent ${i}`);
      }
    }
    return out;
  }

  private nextVer(): number {
    if (this.verSeq >= 0x7ffffff0) {
      // Int32 exhausted (after ~2e9 changes): every cached entry void (stamp 0), the agents numbered afresh from 1.
      this.searchCaches.staleAll();
      this.verSeq = 0;
      for (let i = 0; i < this.ver.length; i++) this.ver[i] = ++this.verSeq;
    }
    return ++this.verSeq;
  }

  /**
   * The per-spec search cache named `key` (everything the cached entries depend on besides the agents' versions), or
   * undefined the first time the key is seen: search that pod uncached, in scratchCache().
   */
  searchCache(key: string): SearchCache | undefined {
    return this.searchCaches.get(key, this.agents.length, this.plans);
  }

  /** A cache holding nothing, for one pod's search (a spec's first, or any without the per-spec caches). */
  scratchCache(): SearchCache {
    return this.searchCaches.scratchCache(this.agents.length, this.plans);
  }

  /** spec: 'label:<key>' or 'field:<Marathon field>'. Domain numbers stay stable while the table lives. */
  domainIndex(spec: string): DomainIndex {
    const p = domainIndexParts(spec);
    return this.perAgent<DomainIndex>(p.key, p.make, p.fill, p.grow);
  }
}
