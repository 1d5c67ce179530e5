import type { Agent } from '../agent.js';
import type { Timer } from '../clock.js';
import type { Offer } from '../proto-types.js';
import { offerableTo } from '../reservations.js';
import { ResourceBag } from '../resources.js';
import { allocatable, compareDrf, DEFAULT_MIN_ALLOCATABLE, dominantShare, filterLifetimeMs, shuffle, type SortKey } from './drf.js';
import { addScalars, charge, type Framework, type HoldOutcome, id, MAX_HOLD_SAMPLES, type MasterParts, type MasterState, type OfferRecord } from './shared.js';

const DEFAULT_REFUSE_SECONDS = 5;

/**
 * The allocator, as Mesos' hierarchical DRF allocator (master/allocator/mesos/hierarchical.cpp): each batch allocation
 * shuffles the candidate agents and gives each agent's available resources to the role with the lowest weighted dominant
 * share, and within it to the framework with the lowest share; refusal filters, suppression, min allocatable resources.
 * Recovered resources (declined, unused, freed by tasks) wait for the next batch, as in Mesos (MESOS-3078).
 */
export class Allocator {
  constructor(
    private readonly s: MasterState,
    private readonly p: MasterParts,
  ) {}

  private running = false;
  private allocationTimer?: Timer;
  private promptAllocation?: Timer;
  /** Agents an event asked to allocate (generateOffers(slaveIds)'s allocationCandidates); 'all' for every agent. */
  private candidates: Set<string> | 'all' = new Set();
  /** Times each role was chosen (the role sorter's `allocation.count`). */
  private readonly roleCounts = new Map<string, number>();

  /** Starts the periodic allocation. */
  start(): void {
    if (this.running) return;
    this.running = true;
    // Fixed rate, as the allocator's periodic batch: a slow cycle does not push the next one back.
    const tick = () => {
      if (!this.running) return;
      const began = this.s.clock.now();
      this.allocate();
      this.allocationTimer = this.s.clock.after(Math.max(0, this.s.opts.allocationIntervalMs - (this.s.clock.now() - began)), tick);
    };
    this.allocationTimer = this.s.clock.after(this.s.opts.allocationIntervalMs, tick);
  }

  stop(): void {
    this.running = false;
    this.allocationTimer?.cancel();
    this.promptAllocation?.cancel();
    for (const o of this.s.offers.values()) o.timer?.cancel();
  }

  /** SUPPRESS: the roles (all of the framework's if none given) get no offers until REVIVE. */
  suppress(fw: Framework, roles: string[] | undefined): void {
    fw.figures.calls.suppress++;
    for (const r of roles ?? fw.roles) fw.suppressed.add(r);
  }

  /** REVIVE: unsuppresses the roles, drops their filters and asks for an allocation of every agent (reviveOffers). */
  revive(fw: Framework, roles: string[] | undefined): void {
    fw.figures.calls.revive++;
    fw.figures.declinedAgents.clear();
    const rs = roles ?? fw.roles;
    for (const r of rs) fw.suppressed.delete(r);
    for (const [agentId, fs] of fw.filters) {
      const left = fs.filter((f) => !rs.includes(f.role));
      if (left.length) fw.filters.set(agentId, left);
      else fw.filters.delete(agentId);
    }
    this.scheduleAllocation();
  }

  /**
   * An event-triggered allocation, batched as generateOffers() is: of the given agents (a new or recovered agent), or of
   * every agent (a framework added or revived). Resources recovered from frameworks do not call this.
   */
  scheduleAllocation(agentIds?: Iterable<string>): void {
    if (!this.running) return;
    if (agentIds === undefined) this.candidates = 'all';
    else if (this.candidates !== 'all') for (const a of agentIds) this.candidates.add(a);
    if (this.promptAllocation) return;
    this.promptAllocation = this.s.clock.after(0, () => {
      this.promptAllocation = undefined;
      const c = this.candidates;
      this.candidates = new Set();
      this.allocate(c);
    });
  }

  /** One allocation: every candidate agent (all by default) in random order, each to the role and framework DRF picks. */
  allocate(candidates: Set<string> | 'all' = 'all'): number {
    const t0 = performance.now();
    const now = this.s.clock.now();
    // The sorters' active clients: subscribed frameworks in their unsuppressed roles.
    const byRole = new Map<string, Framework[]>();
    for (const f of this.s.frameworks.values()) {
      if (!f.sink) continue;
      for (const r of f.roles) {
        if (f.suppressed.has(r)) continue;
        const list = byRole.get(r);
        if (list) list.push(f);
        else byRole.set(r, [f]);
      }
    }
    let made = 0;
    if (byRole.size) {
      const drf = byRole.size > 1 || [...byRole.values()][0].length > 1 ? new DrfOrder(this.s, byRole, this.roleCounts) : undefined;
      const onlyRole = [...byRole.keys()];
      const batches = new Map<Framework, Offer[]>();
      const agents: Agent[] = [];
      for (const a of candidates === 'all' ? this.s.agents.values() : [...candidates].map((aid) => this.s.agents.get(aid))) {
        if (a?.state === 'active') agents.push(a);
      }
      shuffle(agents, this.s.random);
      const mins = this.s.opts.minAllocatable ?? DEFAULT_MIN_ALLOCATABLE;
      for (const a of agents) {
        const gpuAgent = hasGpus(a.total);
        for (const role of drf ? drf.roles() : onlyRole) {
          for (const fw of drf ? drf.frameworks(role) : byRole.get(role)!) {
            // As Mesos' allocator with --filter_gpu_resources (the default): a GPU agent only to GPU_RESOURCES frameworks.
            if (gpuAgent && !fw.capabilities.has('GPU_RESOURCES')) continue;
            const pools = this.poolsFor(a, role, fw.capabilities.has('RESERVATION_REFINEMENT'));
            const offered = offerable(a, pools);
            if (!offered || !allocatable(offered, mins)) continue;
            if (fw.filters.has(a.id) && this.filtered(fw, a.id, role, offered, now)) continue;
            // The offered bags move out of the agent's available pool (no copy); a fresh empty bag takes their place.
            const taken = new Map<string, ResourceBag>();
            for (const pool of pools) {
              const b = a.available.get(pool);
              if (!b || b.isEmpty()) continue;
              taken.set(pool, b);
              a.available.set(pool, new ResourceBag());
              charge(fw, role, b, 1);
            }
            fw.allocationCount.set(role, (fw.allocationCount.get(role) ?? 0) + 1);
            this.roleCounts.set(role, (this.roleCounts.get(role) ?? 0) + 1);
            drf?.allocated(fw, role, taken);
            const offer = this.makeOffer(fw, a, role, taken);
            let list = batches.get(fw);
            if (!list) batches.set(fw, (list = []));
            list.push(offer);
            made++;
          }
        }
      }
      for (const [fw, list] of batches) {
        fw.sink?.send({ type: 'OFFERS', offers: { offers: list } });
        fw.figures.sent += list.length;
        this.s.stats.offersSent += list.length;
      }
    }
    this.p.maintenance.sendInverseOffers(); // the allocator's deallocate() pass
    const ms = performance.now() - t0;
    this.s.stats.allocationCycles++;
    this.s.stats.lastCycleMs = ms;
    this.s.stats.totalCycleMs += ms;
    return made;
  }

  /** The cluster's scalar totals the sorters divide by: every agent the allocator knows (unreachable and gone ones are removed). */
  clusterTotal(): Map<string, number> {
    return clusterTotal(this.s);
  }

  /** The agent's pools a framework role is offered: unreserved, static and dynamic reservations of the role, its volumes. */
  private poolsFor(a: Agent, role: string, refinement: boolean): string[] {
    const out = ['*'];
    for (const pool of a.available.keys()) if (pool !== '*' && offerableTo(pool, role, refinement)) out.push(pool);
    return out;
  }

  private filtered(fw: Framework, agentId: string, role: string, offered: ResourceBag, now: number): boolean {
    const fs = fw.filters.get(agentId);
    if (!fs) return false;
    const live = fs.filter((f) => f.expiresAt > now);
    if (live.length !== fs.length) {
      if (live.length) fw.filters.set(agentId, live);
      else fw.filters.delete(agentId);
    }
    return live.some((f) => f.role === role && f.bag.contains(offered));
  }

  private makeOffer(fw: Framework, a: Agent, role: string, parts: Map<string, ResourceBag>): Offer {
    const oid = this.s.newOfferId();
    const rec: OfferRecord = { id: oid, frameworkId: fw.id, agentId: a.id, role, parts, sentAt: this.s.clock.now() };
    const declined = fw.figures.declinedAgents.get(a.id);
    if (declined) {
      fw.figures.declinedAgents.delete(a.id);
      const r = fw.figures.reoffers;
      if (r.length >= MAX_HOLD_SAMPLES) r.shift();
      // A filter still running did not apply: the agent has more to offer than was refused (RefusedOfferFilter).
      const grown = (fw.filters.get(a.id) ?? []).some((f) => f.role === role && f.expiresAt >= rec.sentAt);
      r.push({ refuseSeconds: declined.refuseSeconds, gapMs: rec.sentAt - declined.at, grown });
    }
    if (this.s.opts.offerTimeoutMs !== undefined) rec.timer = this.s.clock.after(this.s.opts.offerTimeoutMs, () => this.removeOffer(oid, true));
    this.s.offers.set(oid, rec);
    fw.offers.add(oid);
    const multiRole = fw.capabilities.has('MULTI_ROLE');
    const resources = [];
    const refined = fw.capabilities.has('RESERVATION_REFINEMENT');
    for (const [pool, b] of parts) resources.push(...b.toResources(pool, multiRole ? role : undefined, refined));
    const offer: Offer = {
      id: id(oid),
      framework_id: id(fw.id),
      agent_id: id(a.id),
      hostname: a.hostname,
      url: { scheme: 'http', address: { hostname: a.hostname, ip: this.s.agentEndpoint.ip, port: this.s.agentEndpoint.port }, path: '/slave(1)' },
      resources,
      attributes: a.attributes,
      executor_ids: [...a.executors.values()].filter((e) => e.frameworkId === fw.id && e.state !== 'terminated').map((e) => id(e.executorId)),
    };
    if (a.zone) offer.domain = { fault_domain: { region: { name: a.region ?? 'default' }, zone: { name: a.zone } } };
    if (multiRole) offer.allocation_info = { role };
    const unavailability = this.p.maintenance.unavailabilityOf({ hostname: a.hostname, ip: this.s.agentEndpoint.ip });
    if (unavailability) offer.unavailability = unavailability;
    return offer;
  }

  /** Takes an offer back; `rescind` tells the framework (RESCIND), as for timeouts and lost agents. */
  removeOffer(oid: string, rescind: boolean, filter?: { refuseSeconds: number; unused?: Map<string, ResourceBag> }): OfferRecord | undefined {
    const o = this.s.offers.get(oid);
    if (!o) return undefined;
    this.s.offers.delete(oid);
    o.timer?.cancel();
    const fw = this.s.frameworks.get(o.frameworkId);
    const a = this.s.agents.get(o.agentId);
    const back = filter?.unused ?? o.parts;
    if (fw) {
      fw.offers.delete(oid);
      recordHold(fw, o, this.s.clock.now(), filter ? 'declined' : 'rescinded');
      if (filter) fw.figures.declined++;
      else fw.figures.rescinded++;
      for (const b of back.values()) charge(fw, o.role, b, -1);
      if (filter && filter.refuseSeconds > 0 && a) {
        const bag = new ResourceBag();
        for (const b of back.values()) bag.add(b);
        this.addFilter(fw, a.id, o.role, bag, filter.refuseSeconds);
      }
      if (rescind) fw.sink?.send({ type: 'RESCIND', rescind: { offer_id: id(oid) } });
    }
    // The offer is gone, so its bags can move back into the agent's pool as they are.
    if (a) a.release(back, true);
    return o;
  }

  /** DECLINE: the offers go back to their agents, filtered for refuse_seconds (default 5 s); offered again in the next batch. */
  decline(fw: Framework, oids: string[], refuseSeconds: number | undefined): void {
    const refuse = refuseOf(refuseSeconds);
    fw.figures.calls.decline++;
    const k = String(refuse);
    fw.figures.declineRefuseSeconds[k] = (fw.figures.declineRefuseSeconds[k] ?? 0) + 1;
    for (const oid of oids) {
      const o = this.s.offers.get(oid);
      if (!o || o.frameworkId !== fw.id) continue;
      this.removeOffer(oid, false, { refuseSeconds: refuse });
      fw.figures.declinedAgents.set(o.agentId, { at: this.s.clock.now(), refuseSeconds: refuse });
    }
  }

  /**
   * The framework refuses these resources of the role on the agent (nothing if empty or refuse_seconds is 0). The filter
   * lives refuse_seconds but at least one allocation interval, so the agent's next batch allocation sees it (MESOS-4302).
   */
  addFilter(fw: Framework, agentId: string, role: string, bag: ResourceBag, refuseSeconds: number): void {
    const ms = filterLifetimeMs(refuseSeconds, this.s.opts.allocationIntervalMs);
    if (ms === 0 || bag.isEmpty()) return;
    const list = fw.filters.get(agentId) ?? [];
    list.push({ role, bag, expiresAt: this.s.clock.now() + ms });
    fw.filters.set(agentId, list);
  }

  /** Rescinds every offer of the agent (it was lost or is gone). */
  rescindAgentOffers(a: Agent): void {
    for (const o of [...this.s.offers.values()]) if (o.agentId === a.id) this.removeOffer(o.id, true);
  }

  /** Subscribed frameworks with resources offered or in use on the agent: who gets its inverse offers. */
  frameworksOnAgent(agentId: string): string[] {
    const a = this.s.agents.get(agentId);
    if (!a) return [];
    const ids = new Set<string>();
    for (const o of this.s.offers.values()) if (o.agentId === agentId) ids.add(o.frameworkId);
    for (const t of a.tasks.values()) if (t.holdsResources) ids.add(t.frameworkId);
    for (const e of a.executors.values()) if (e.state !== 'terminated') ids.add(e.frameworkId);
    return [...ids].filter((fid) => this.s.frameworks.get(fid)?.sink).sort();
  }

  /** Resources of the agent currently offered to any framework. */
  offeredOn(a: Agent): ResourceBag {
    const b = new ResourceBag();
    for (const o of this.s.offers.values()) if (o.agentId === a.id) for (const p of o.parts.values()) b.add(p);
    return b;
  }
}

/** A DECLINE's or ACCEPT's refuse_seconds; absent or invalid means Mesos' default of 5 s. */
export function refuseOf(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return DEFAULT_REFUSE_SECONDS;
  return Math.min(seconds, 365 * 24 * 3600);
}

/** An offer leaves the framework (accepted, declined or rescinded): its hold time is a sample. */
export function recordHold(fw: Framework, o: OfferRecord, now: number, outcome: HoldOutcome): void {
  const h = fw.figures.holds;
  if (h.length >= MAX_HOLD_SAMPLES) h.shift();
  h.push({ ms: now - o.sentAt, outcome });
}

/** What the agent would offer the role from these pools: the one non-empty bag itself, or their sum; undefined if none. */
function offerable(a: Agent, pools: string[]): ResourceBag | undefined {
  let one: ResourceBag | undefined;
  let sum: ResourceBag | undefined;
  for (const pool of pools) {
    const b = a.available.get(pool);
    if (!b || b.isEmpty()) continue;
    if (!one) one = b;
    else {
      if (!sum) sum = one.clone();
      sum.add(b);
    }
  }
  return sum ?? one;
}

function clusterTotal(s: MasterState): Map<string, number> {
  const total = new Map<string, number>();
  for (const a of s.agents.values()) {
    if (a.state === 'unreachable' || a.state === 'gone') continue;
    for (const b of a.total.values()) for (const [k, v] of b.scalars) total.set(k, (total.get(k) ?? 0) + v);
  }
  return total;
}

/**
 * The two sorters of one allocation: roles by weighted dominant share of everything allocated to them (by any framework,
 * subscribed or not), then the role's active frameworks by their own share in it. Kept current as offers are made.
 */
class DrfOrder {
  private readonly total: Map<string, number>;
  private readonly roleAlloc = new Map<string, ResourceBag>();
  private readonly roleKeys = new Map<string, SortKey>();
  private readonly fwKeys = new Map<string, Map<Framework, SortKey>>();
  private roleOrder?: string[];
  private readonly fwOrder = new Map<string, Framework[]>();

  constructor(
    private readonly s: MasterState,
    private readonly byRole: Map<string, Framework[]>,
    roleCounts: Map<string, number>,
  ) {
    this.total = clusterTotal(s);
    for (const r of byRole.keys()) this.roleAlloc.set(r, new ResourceBag());
    for (const f of s.frameworks.values()) for (const [r, b] of f.allocatedByRole) if (this.roleAlloc.has(r)) addScalars(this.roleAlloc.get(r)!, b, 1);
    for (const [r, fws] of byRole) {
      this.roleKeys.set(r, { share: dominantShare(this.roleAlloc.get(r), this.total, this.weight(r)), count: roleCounts.get(r) ?? 0, name: r });
      this.fwKeys.set(r, new Map(fws.map((f) => [f, { share: dominantShare(f.allocatedByRole.get(r), this.total), count: f.allocationCount.get(r) ?? 0, name: f.id }])));
    }
  }

  private weight(role: string): number {
    return this.s.opts.weights?.[role] ?? 1;
  }

  roles(): string[] {
    return (this.roleOrder ??= [...this.byRole.keys()].sort((x, y) => compareDrf(this.roleKeys.get(x)!, this.roleKeys.get(y)!)));
  }

  frameworks(role: string): Framework[] {
    let o = this.fwOrder.get(role);
    if (!o) {
      const keys = this.fwKeys.get(role)!;
      o = [...this.byRole.get(role)!].sort((x, y) => compareDrf(keys.get(x)!, keys.get(y)!));
      this.fwOrder.set(role, o);
    }
    return o;
  }

  /** An offer was made: the role's and the framework's shares (and counts) change, so both orders are computed again. */
  allocated(fw: Framework, role: string, taken: Map<string, ResourceBag>): void {
    const ra = this.roleAlloc.get(role)!;
    for (const b of taken.values()) addScalars(ra, b, 1);
    const rk = this.roleKeys.get(role)!;
    rk.share = dominantShare(ra, this.total, this.weight(role));
    rk.count++;
    const fk = this.fwKeys.get(role)!.get(fw)!;
    fk.share = dominantShare(fw.allocatedByRole.get(role), this.total);
    fk.count++;
    this.roleOrder = undefined;
    this.fwOrder.delete(role);
  }
}

/** The agent has `gpus` in its total resources, in any pool. */
function hasGpus(total: ReadonlyMap<string, ResourceBag>): boolean {
  for (const b of total.values()) if (b.scalar('gpus') > 0) return true;
  return false;
}
