// The agents' working copy that plan() draws on, kept from one plan to the next: only the agents whose view changed
// (a new AgentView object: offers used or added, pods placed or gone, labels, taints) or that the previous plan drew
// on are rebuilt, and the per-agent arrays derived from views (static filter masks, eligibility masks, domain indexes,
// capacities) are updated at those agents only. Without a table passed in, plan() builds a fresh one: the same result.
import { round3 } from './quantity.js';
import type { Labels } from './selectors.js';
import type { AgentView, PlacedPod, PlanConfig, PortRange } from './types.js';

export interface Slot {
  role: string;
  cpus: number;
  mem: number;
  disk: number;
  /** Free port ranges; shared with the view until a pod takes ports (then replaced, never changed in place). */
  ports: readonly PortRange[];
  /** Other Mesos scalars offered to the role (`gpus`); null = none. */
  scalars: Record<string, number> | null;
}

export interface WAgent {
  idx: number;
  view: AgentView;
  id: string;
  labels: Labels;
  /** The Node name (NodeLike: a WAgent is what node selectors look at). */
  name: string;
  slots: Slot[];
  hasKubelet: boolean;
  /** A kubelet is launched on this agent by this plan. */
  newKubelet: boolean;
  podCount: number;
  maxPods: number;
  /** Host ports of the pods here; null while there are none. */
  usedPorts: Set<number> | null;
  /** Pods placed here by this plan. */
  added: PlacedPod[];
  /**
   * chooseSlot()'s answer for the pod numbered slotSeq, as an index into slots (-1: none). A number, not the Slot: the
   * agent outlives many plans (old generation) and storing a young object in it on every visit costs a write barrier.
   */
  slotIdx: number;
  slotSeq: number;
  /** Node-advertised extended resources left; undefined until a pod asks (see nodeExtFree()). */
  extFree: Record<string, number> | null | undefined;
}

function slotsOf(view: AgentView): Slot[] {
  // Plain loops, no closures: this runs for every agent whose view changed.
  const slots: Slot[] = [];
  const offered = view.offered;
  for (let i = 0; i < offered.length; i++) {
    const o = offered[i];
    let s: Slot | undefined;
    for (let j = 0; j < slots.length; j++) if (slots[j].role === o.role) s = slots[j];
    // The view's ranges, shared: a slot's ports are never changed in place, only replaced (plan.ts takePorts).
    const ports = o.ports;
    const sc = o.scalars;
    if (!s) slots.push({ role: o.role, cpus: o.res.cpus, mem: o.res.mem, disk: o.res.disk, ports, scalars: sc ? { ...sc } : null });
    else {
      s.cpus = round3(s.cpus + o.res.cpus);
      s.mem = round3(s.mem + o.res.mem);
      s.disk = round3(s.disk + o.res.disk);
      s.ports = [...s.ports, ...ports].sort((x, y) => x[0] - y[0]);
      if (sc) {
        const t = (s.scalars ??= {});
        for (const k in sc) t[k] = round3((t[k] ?? 0) + sc[k]);
      }
    }
  }
  return slots;
}

function usedPortsOf(view: AgentView): Set<number> | null {
  let usedPorts: Set<number> | null = null;
  const pods = view.pods;
  for (let i = 0; i < pods.length; i++) {
    const hp = pods[i].hostPorts;
    for (let j = 0; j < hp.length; j++) (usedPorts ??= new Set()).add(hp[j]);
  }
  return usedPorts;
}

export function makeAgent(view: AgentView, idx: number, cfg: PlanConfig): WAgent {
  const a: WAgent = {
    idx,
    view,
    id: view.id,
    labels: view.labels,
    name: view.nodeName ?? view.hostname,
    slots: [],
    hasKubelet: false,
    newKubelet: false,
    podCount: 0,
    maxPods: 0,
    usedPorts: null,
    added: [],
    slotIdx: -1,
    slotSeq: 0,
    extFree: undefined,
  };
  resetAgent(a, view, cfg);
  return a;
}

/** Back to what `view` says, in place (the object's identity is kept: lists and plans refer to it). */
function resetAgent(a: WAgent, view: AgentView, cfg: PlanConfig): void {
  a.view = view;
  a.id = view.id;
  a.labels = view.labels;
  a.name = view.nodeName ?? view.hostname;
  a.slots = slotsOf(view);
  // Pods assumed on an agent whose kubelet has not reported yet ride on the executor launched with the first one.
  a.hasKubelet = view.kubelet !== undefined || view.pods.length > 0;
  a.newKubelet = false;
  a.podCount = Math.max(view.kubelet?.podCount ?? 0, view.pods.length);
  a.maxPods = view.kubelet?.maxPods ?? cfg.maxPodsPerKubelet;
  a.usedPorts = usedPortsOf(view);
  if (a.added.length) a.added = [];
  a.slotIdx = -1;
  a.extFree = undefined;
}

/** The agent's offered resources for a role (few roles per agent: a scan beats a Map). */
export function slotOf(a: WAgent, role: string): Slot | undefined {
  const slots = a.slots;
  for (let i = 0; i < slots.length; i++) if (slots[i].role === role) return slots[i];
  return undefined;
}

/** Agents numbered per distinct value of a label or Marathon field. ids[agent] = -1: the agent lacks it. */
export interface DomainIndex {
  ids: Int32Array;
  names: string[];
}

/** A Marathon field's value on an agent; undefined when the agent lacks it. */
export function fieldValue(a: AgentView, field: string): string | undefined {
  switch (field) {
    case '@hostname':
    case 'hostname':
      return a.hostname;
    case '@zone':
      return a.zone;
    case '@region':
      return a.region;
    default:
      return a.attributes[field];
  }
}

/** Something computed for every agent from its view alone; `update` recomputes one agent's part. */
interface Derived {
  value: unknown;
  update: (a: WAgent) => void;
  usedInPlan: number;
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

/**
 * What the search learned about each agent for one pod spec (search-cache.ts): entry i holds while stamp[i] equals the
 * agent's version (AgentTable.ver).
 */
export interface SearchCache {
  stamp: Int32Array;
  /** The agent passes the filters that read only its own working copy and the pod's spec. */
  ok: Uint8Array;
  /** The weighted sum of the scores that read only the agent's working copy and the pod's spec (valid where ok). */
  score: Float64Array;
  usedInPlan: number;
  /** Order of last use among the table's caches (the least recent is dropped first). */
  lastUse: number;
}

function newSearchCache(n: number, plan: number): SearchCache {
  return { stamp: new Int32Array(n), ok: new Uint8Array(n), score: new Float64Array(n), usedInPlan: plan, lastUse: 0 };
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
/** Spec keys remembered as seen once; a cache is made on a key's second sighting (a lone pod gains nothing from one). */
const SEEN_ONCE_LIMIT = 10_000;

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
  /** Agents the searches visited, and examined afresh (not answered by the per-spec cache), since the table was made. */
  readonly searchStats = { visited: 0, examined: 0 };
  private cfg: PlanConfig | undefined;
  private touched: WAgent[] = [];
  private isTouched = new Uint8Array(0);
  private kubeletsChanged = true;
  private derived = new Map<string, Derived>();
  private cpus = new Float64Array(0);
  private mem = new Float64Array(0);
  private maxDirty = true;
  private max = { cpus: 1, mem: 1 };
  private flags = new Uint8Array(0);
  private flagCounts = [0, 0, 0];
  /**
   * Per agent, a number that changes whenever its working copy may have (rebuilt, reset, drawn on by plan()); unique
   * across the table's life, so per-spec caches compare it (never 0).
   */
  ver = new Int32Array(0);
  private verSeq = 0;
  private searchCaches = new Map<string, SearchCache>();
  private seenOnce = new Set<string>();
  private scratch: SearchCache | undefined;
  readonly searchCacheEnabled: boolean;
  private readonly searchCacheBytes: number;

  constructor(opts: AgentTableOptions = {}) {
    this.searchCacheEnabled = opts.searchCache ?? true;
    this.searchCacheBytes = opts.searchCacheBytes ?? SEARCH_CACHE_BYTES;
  }

  /** Specs with search results kept. */
  get searchCacheCount(): number {
    return this.searchCaches.size;
  }

  /** Brings the working copy to `views`: agents whose view object changed are rebuilt, the ones the last plan drew on reset. */
  sync(views: readonly AgentView[], cfg: PlanConfig): void {
    this.plans++;
    this.rebuilt = 0;
    const n = views.length;
    let full = cfg !== this.cfg || n !== this.agents.length;
    if (!full) {
      for (let i = 0; i < n; i++) {
        if (views[i] !== this.agents[i].view && views[i].id !== this.agents[i].id) {
          full = true; // an agent came, went or moved: renumber everything
          break;
        }
      }
    }
    if (full) return this.rebuildAll(views, cfg);
    for (const a of this.touched) {
      if (a.newKubelet) this.kubeletsChanged = true;
      this.isTouched[a.idx] = 0;
      if (views[a.idx] === a.view) resetAgent(a, a.view, cfg);
      this.ver[a.idx] = this.nextVer();
    }
    this.touched.length = 0;
    for (let i = 0; i < n; i++) {
      const v = views[i];
      const a = this.agents[i];
      if (v === a.view) continue;
      const had = a.hasKubelet;
      resetAgent(a, v, cfg);
      this.ver[i] = this.nextVer();
      if (had !== a.hasKubelet) this.kubeletsChanged = true;
      this.agentChanged(a);
      for (const d of this.derived.values()) d.update(a);
      this.rebuilt++;
    }
    if (this.kubeletsChanged) this.listKubelets();
    for (const [k, d] of this.derived) if (this.plans - d.usedInPlan > KEEP_UNUSED_PLANS) this.derived.delete(k);
    for (const [k, c] of this.searchCaches) if (this.plans - c.usedInPlan > KEEP_UNUSED_PLANS) this.searchCaches.delete(k);
  }

  private rebuildAll(views: readonly AgentView[], cfg: PlanConfig): void {
    this.cfg = cfg;
    this.derived.clear();
    this.searchCaches.clear();
    this.seenOnce.clear();
    this.scratch = undefined;
    this.touched.length = 0;
    const n = views.length;
    this.ver = new Int32Array(n);
    for (let i = 0; i < n; i++) this.ver[i] = this.nextVer();
    this.agents = new Array<WAgent>(n);
    this.cpus = new Float64Array(n);
    this.mem = new Float64Array(n);
    this.flags = new Uint8Array(n);
    this.isTouched = new Uint8Array(n);
    this.flagCounts = [0, 0, 0];
    for (let i = 0; i < n; i++) {
      const a = makeAgent(views[i], i, cfg);
      this.agents[i] = a;
      this.agentChanged(a);
    }
    this.rebuilt = n;
    this.maxDirty = true;
    this.listKubelets();
  }

  private agentChanged(a: WAgent): void {
    let c = 0;
    let m = 0;
    for (const s of a.slots) {
      c += s.cpus;
      m += s.mem;
    }
    const i = a.idx;
    if (c > this.max.cpus || m > this.max.mem || this.cpus[i] >= this.max.cpus || this.mem[i] >= this.max.mem) this.maxDirty = true;
    this.cpus[i] = c;
    this.mem[i] = m;
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
    for (const a of this.agents) if (a.hasKubelet) ka.push(a);
    this.kubeletAgents = ka;
  }

  /** plan() drew on this agent's working copy: reset it before the next plan. */
  touch(a: WAgent): void {
    this.ver[a.idx] = this.nextVer(); // every time: the next pod must not reuse what the search cached before the change
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
      this.max = { cpus: c || 1, mem: m || 1 };
      this.maxDirty = false;
    }
    return this.max;
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
   * entry, again whenever a's view changes. `key` must name everything the entries depend on besides the view.
   */
  perAgent<T>(key: string, make: (n: number) => T, fill: (value: T, a: WAgent) => void): T {
    let d = this.derived.get(key);
    if (!d) {
      const value = make(this.agents.length);
      for (const a of this.agents) fill(value, a);
      d = { value, update: (a) => fill(value, a), usedInPlan: this.plans };
      this.derived.set(key, d);
    }
    d.usedInPlan = this.plans;
    return d.value as T;
  }

  private nextVer(): number {
    if (this.verSeq >= 0x7ffffff0) {
      // Int32 exhausted (after ~2e9 changes): every cached entry void (stamp 0), the agents numbered afresh from 1.
      for (const c of this.searchCaches.values()) c.stamp.fill(0);
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
    let c = this.searchCaches.get(key);
    if (!c) {
      if (!this.seenOnce.has(key)) {
        if (this.seenOnce.size >= SEEN_ONCE_LIMIT) this.seenOnce.clear();
        this.seenOnce.add(key);
        return undefined;
      }
      this.seenOnce.delete(key);
      const n = this.agents.length;
      const max = Math.max(2, Math.floor(this.searchCacheBytes / (13 * Math.max(1, n))));
      if (this.searchCaches.size >= max) this.dropLeastRecentSearchCache();
      c = newSearchCache(n, this.plans);
      this.searchCaches.set(key, c);
    }
    c.usedInPlan = this.plans;
    c.lastUse = ++this.searchCacheUses;
    return c;
  }

  /** Arrays for a search without a cache (its entries are written, never trusted). */
  scratchCache(): SearchCache {
    return (this.scratch ??= newSearchCache(this.agents.length, this.plans));
  }

  private searchCacheUses = 0;

  private dropLeastRecentSearchCache(): void {
    let oldest: string | undefined;
    let at = Infinity;
    for (const [k, c] of this.searchCaches) {
      if (c.lastUse < at) {
        at = c.lastUse;
        oldest = k;
      }
    }
    if (oldest !== undefined) this.searchCaches.delete(oldest);
  }

  /** spec: 'label:<key>' or 'field:<Marathon field>'. Domain numbers stay stable while the table lives. */
  domainIndex(spec: string): DomainIndex {
    const isLabel = spec.startsWith('label:');
    const key = spec.slice(spec.indexOf(':') + 1);
    const byName = new Map<string, number>();
    return this.perAgent<DomainIndex>(
      `domains:${spec}`,
      (n) => ({ ids: new Int32Array(n), names: [] }),
      (idx, a) => {
        const v = isLabel ? a.labels[key] : fieldValue(a.view, key);
        if (v === undefined) {
          idx.ids[a.idx] = -1;
          return;
        }
        let id = byName.get(v);
        if (id === undefined) {
          id = idx.names.length;
          idx.names.push(v);
          byName.set(v, id);
        }
        idx.ids[a.idx] = id;
      },
    );
  }
}
