import type { Agent } from '../agent.js';
import type { Timer } from '../clock.js';
import type { Offer } from '../proto-types.js';
import { ResourceBag } from '../resources.js';
import { addScalars, type Framework, id, type MasterParts, type MasterState, type OfferRecord } from './shared.js';

const DEFAULT_REFUSE_SECONDS = 5;

/** The allocator: DRF over frameworks and roles, refusal filters, offers and their rescinding. */
export class Allocator {
  constructor(
    private readonly s: MasterState,
    private readonly p: MasterParts,
  ) {}

  private running = false;
  private allocationTimer?: Timer;
  private promptAllocation?: Timer;

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

  revive(fw: Framework, roles: string[] | undefined): void {
    const rs = roles ?? fw.roles;
    for (const r of rs) fw.suppressed.delete(r);
    for (const [agentId, fs] of fw.filters) {
      const left = fs.filter((f) => !rs.includes(f.role));
      if (left.length) fw.filters.set(agentId, left);
      else fw.filters.delete(agentId);
    }
    this.scheduleAllocation();
  }

  scheduleAllocation(): void {
    if (!this.running || this.promptAllocation) return;
    this.promptAllocation = this.s.clock.after(0, () => {
      this.promptAllocation = undefined;
      this.allocate();
    });
  }

  /** One allocation cycle: every offerable agent goes to the framework (and role) with the lowest dominant share. */
  allocate(): number {
    const t0 = performance.now();
    const now = this.s.clock.now();
    const fws = [...this.s.frameworks.values()].filter((f) => f.sink && f.roles.some((r) => !f.suppressed.has(r)));
    let made = 0;
    if (fws.length) {
      // DRF: dominant share of cpus/mem; with one framework there is nothing to order.
      let share = (_f: Framework) => 0;
      if (fws.length > 1) {
        const total = new ResourceBag();
        for (const a of this.s.agents.values()) if (a.state === 'active') for (const b of a.total.values()) total.add(b);
        const cpus = total.scalar('cpus');
        const mem = total.scalar('mem');
        share = (f) => Math.max(safeDiv(f.allocated.scalar('cpus'), cpus), safeDiv(f.allocated.scalar('mem'), mem));
      }
      const shares = new Map(fws.map((f) => [f, share(f)]));
      const batches = new Map<Framework, Offer[]>();
      const agents = [...this.s.agents.values()];
      const start = agents.length ? Math.floor(this.s.random() * agents.length) : 0;
      for (let n = 0; n < agents.length; n++) {
        const a = agents[(start + n) % agents.length];
        if (a.state !== 'active') continue;
        const order = fws.length === 1 ? fws : [...fws].sort((x, y) => shares.get(x)! - shares.get(y)! || (x.id < y.id ? -1 : 1));
        const gpuAgent = hasGpus(a.total);
        for (const fw of order) {
          // As Mesos' allocator with --filter_gpu_resources (the default): a GPU agent only to GPU_RESOURCES frameworks.
          if (gpuAgent && !fw.capabilities.has('GPU_RESOURCES')) continue;
          for (const role of fw.roles) {
            if (fw.suppressed.has(role)) continue;
            const pools = role === '*' ? ['*'] : ['*', role];
            let any = false;
            for (const pool of pools) if (a.available.get(pool)?.isEmpty() === false) any = true;
            if (!any) continue;
            if (fw.filters.has(a.id)) {
              const offered = new ResourceBag();
              for (const pool of pools) {
                const b = a.available.get(pool);
                if (b) offered.add(b);
              }
              if (this.filtered(fw, a.id, role, offered, now)) continue;
            }
            // The offered bags move out of the agent's available pool (no copy); a fresh empty bag takes their place.
            const taken = new Map<string, ResourceBag>();
            for (const pool of pools) {
              const b = a.available.get(pool);
              if (!b || b.isEmpty()) continue;
              taken.set(pool, b);
              a.available.set(pool, new ResourceBag());
              addScalars(fw.allocated, b, 1);
            }
            const offer = this.makeOffer(fw, a, role, taken);
            if (fws.length > 1) shares.set(fw, share(fw));
            let list = batches.get(fw);
            if (!list) batches.set(fw, (list = []));
            list.push(offer);
            made++;
          }
        }
      }
      for (const [fw, list] of batches) {
        fw.sink?.send({ type: 'OFFERS', offers: { offers: list } });
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
    const rec: OfferRecord = { id: oid, frameworkId: fw.id, agentId: a.id, role, parts };
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
      for (const b of back.values()) addScalars(fw.allocated, b, -1);
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

  declineOffer(fw: Framework, oid: string, refuseSeconds: number | undefined): void {
    const o = this.s.offers.get(oid);
    if (!o || o.frameworkId !== fw.id) return;
    this.removeOffer(oid, false, { refuseSeconds: refuseOf(refuseSeconds) });
  }

  /** The framework refuses these resources of the role on the agent for `refuseSeconds` (nothing if empty). */
  addFilter(fw: Framework, agentId: string, role: string, bag: ResourceBag, refuseSeconds: number): void {
    if (refuseSeconds <= 0 || bag.isEmpty()) return;
    const list = fw.filters.get(agentId) ?? [];
    list.push({ role, bag, expiresAt: this.s.clock.now() + refuseSeconds * 1000 });
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

function safeDiv(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

/** The agent has `gpus` in its total resources, in any pool. */
function hasGpus(total: ReadonlyMap<string, ResourceBag>): boolean {
  for (const b of total.values()) if (b.scalar('gpus') > 0) return true;
  return false;
}
