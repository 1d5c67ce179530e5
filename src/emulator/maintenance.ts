/**
 * Mesos' maintenance primitives in the emulator (docs/maintenance.md; master/maintenance.cpp, the hierarchical
 * allocator's `deallocate()`): an operator posts a schedule of windows; machines in it are DRAINING; offers for their
 * agents carry `unavailability`; every allocation cycle, each active framework with resources offered or in use on such
 * an agent gets an inverse offer for it unless one is outstanding or a filter from its last answer still runs. Answers
 * (ACCEPT/DECLINE_INVERSE_OFFERS) are recorded per machine, as `/maintenance/status` shows them. Changing or removing a
 * machine's window rescinds its outstanding inverse offers (RESCIND_INVERSE_OFFER).
 */
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';
import type { Clock, Timer } from './clock.js';
import type { Filters, InverseOffer, MachineID, SchedulerEvent, Unavailability, URL } from '../mesos/types.js';

export interface MaintenanceWindow {
  machine_ids: MachineID[];
  unavailability: Unavailability;
}

export interface MaintenanceSchedule {
  windows: MaintenanceWindow[];
}

export type InverseOfferStatus = 'UNKNOWN' | 'ACCEPT' | 'DECLINE';

/** What the maintenance model needs from the master that owns it. */
export interface MaintenanceHost {
  clock: Clock;
  log?: Logger;
  /** Agents the master knows, with the machine they run on. */
  agents(): Iterable<{ id: string; hostname: string; ip: string; active: boolean }>;
  /** Subscribed frameworks with resources offered or in use on the agent (the allocator's getOfferedOrAllocated). */
  frameworksOn(agentId: string): string[];
  send(frameworkId: string, ev: SchedulerEvent): void;
  newOfferId(): string;
  agentUrl(agentId: string): URL;
  /** Outstanding inverse offers are rescinded after this (the master's --offer_timeout); undefined = never. */
  offerTimeoutMs?: number;
}

interface OutstandingInverseOffer {
  id: string;
  frameworkId: string;
  agentId: string;
  machine: string;
  sentAt: number;
  timer?: Timer;
}

interface StatusRecord {
  status: InverseOfferStatus;
  at: number;
}

/** One answer a framework gave, for tests and people: the real master keeps only the latest per machine. */
export interface InverseOfferResponse {
  inverse_offer_id: string;
  framework_id: string;
  agent_id: string;
  hostname: string;
  status: 'ACCEPT' | 'DECLINE';
  refuse_seconds: number;
  at: number;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

const MAX_RESPONSES = 1000;
const DEFAULT_FILTER_SECONDS = 5; // Filters.refuse_seconds' default in mesos.proto

/** `hostname|ip`, hostnames case-insensitive as Mesos treats them. */
export function machineKey(m: MachineID): string {
  return `${(m.hostname ?? '').toLowerCase()}|${m.ip ?? ''}`;
}

const nanos = (v: unknown): number | undefined => {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Reads a schedule in Mesos' JSON form (`{"windows":[{"machine_ids":[{"hostname":…}],"unavailability":{"start":
 * {"nanoseconds":…},"duration":{"nanoseconds":…}}}]}`) or the emulator's shorthand (`{"agents":[ids],"startInSeconds":30,
 * "durationSeconds":600}`, agent ids or hostnames), and checks it as maintenance::validation::schedule does.
 */
export function parseSchedule(body: unknown, ctx: { nowMs: number; hostnameOf(agentIdOrHostname: string): string | undefined }): ParseResult<MaintenanceSchedule> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: 'schedule must be a JSON object' };
  const b = body as Record<string, unknown>;
  let windows: unknown;
  if (b.agents !== undefined) {
    if (!Array.isArray(b.agents) || b.agents.some((x) => typeof x !== 'string')) return { ok: false, error: '"agents" must be a list of agent ids or hostnames' };
    const start = b.startInSeconds ?? 0;
    if (typeof start !== 'number' || !Number.isFinite(start)) return { ok: false, error: '"startInSeconds" must be a number' };
    const dur = b.durationSeconds;
    if (dur !== undefined && (typeof dur !== 'number' || !Number.isFinite(dur) || dur < 0)) return { ok: false, error: '"durationSeconds" must be a number ≥ 0' };
    const machine_ids: MachineID[] = [];
    for (const a of b.agents as string[]) {
      const hostname = ctx.hostnameOf(a);
      if (!hostname) return { ok: false, error: `agent "${a}" not found` };
      machine_ids.push({ hostname });
    }
    const unavailability: Unavailability = { start: { nanoseconds: Math.round((ctx.nowMs + start * 1000) * 1e6) } };
    if (dur !== undefined) unavailability.duration = { nanoseconds: Math.round(dur * 1e9) };
    windows = machine_ids.length ? [{ machine_ids, unavailability }] : [];
  } else {
    windows = b.windows ?? [];
  }
  if (!Array.isArray(windows)) return { ok: false, error: '"windows" must be a list' };
  const out: MaintenanceWindow[] = [];
  const seen = new Set<string>();
  for (const [i, w] of windows.entries()) {
    if (!w || typeof w !== 'object') return { ok: false, error: `window ${i} must be an object` };
    const { machine_ids, unavailability } = w as { machine_ids?: unknown; unavailability?: unknown };
    if (!Array.isArray(machine_ids) || machine_ids.length === 0) return { ok: false, error: 'List of machines in the maintenance window is empty' };
    const ids: MachineID[] = [];
    for (const m of machine_ids) {
      const mm = (m ?? {}) as { hostname?: unknown; ip?: unknown };
      const hostname = typeof mm.hostname === 'string' && mm.hostname ? mm.hostname.toLowerCase() : undefined;
      const ip = typeof mm.ip === 'string' && mm.ip ? mm.ip : undefined;
      if (!hostname && !ip) return { ok: false, error: "Both 'hostname' and 'ip' for a machine are empty" };
      if (ip && !(IPV4.test(ip) && ip.split('.').every((p) => Number(p) <= 255))) return { ok: false, error: `Failed to parse IP '${ip}'` };
      const id: MachineID = { ...(hostname ? { hostname } : {}), ...(ip ? { ip } : {}) };
      const k = machineKey(id);
      if (seen.has(k)) return { ok: false, error: `Machine '${hostname ?? ''}${ip ? ` (${ip})` : ''}' appears more than once in the schedule` };
      seen.add(k);
      ids.push(id);
    }
    const u = (unavailability ?? {}) as { start?: { nanoseconds?: unknown }; duration?: { nanoseconds?: unknown } };
    const start = nanos(u.start?.nanoseconds);
    if (start === undefined) return { ok: false, error: `window ${i}: 'unavailability.start.nanoseconds' is required` };
    const un: Unavailability = { start: { nanoseconds: start } };
    if (u.duration !== undefined) {
      const d = nanos(u.duration?.nanoseconds);
      if (d === undefined) return { ok: false, error: `window ${i}: 'unavailability.duration.nanoseconds' must be a number` };
      if (d < 0) return { ok: false, error: "Unavailability's duration is negative" };
      un.duration = { nanoseconds: d };
    }
    out.push({ machine_ids: ids, unavailability: un });
  }
  return { ok: true, value: { windows: out } };
}

const sameUnavailability = (a: Unavailability | undefined, b: Unavailability | undefined) =>
  a?.start.nanoseconds === b?.start.nanoseconds && a?.duration?.nanoseconds === b?.duration?.nanoseconds;

export class Maintenance {
  private schedule: MaintenanceSchedule = { windows: [] };
  private readonly inverseOffers = new Map<string, OutstandingInverseOffer>();
  /** `framework|agent` → when the filter from the framework's last answer ends. */
  private readonly filters = new Map<string, number>();
  /** machine key → framework id → latest answer. */
  private readonly statuses = new Map<string, Map<string, StatusRecord>>();
  private readonly responses: InverseOfferResponse[] = [];
  private readonly log: Logger;
  readonly stats = { inverseOffersSent: 0, rescinded: 0, accepted: 0, declined: 0 };

  constructor(private readonly host: MaintenanceHost) {
    this.log = host.log ?? silentLogger();
  }

  /** The window an agent's machine is in: an exact hostname and/or ip match, as machine ids are compared. */
  private windowOf(a: { hostname: string; ip: string }): { machine: string; unavailability: Unavailability } | undefined {
    const host = a.hostname.toLowerCase();
    for (const w of this.schedule.windows)
      for (const m of w.machine_ids)
        if ((m.hostname === undefined || m.hostname === host) && (m.ip === undefined || m.ip === a.ip)) return { machine: machineKey(m), unavailability: w.unavailability };
    return undefined;
  }

  private agent(agentId: string) {
    for (const a of this.host.agents()) if (a.id === agentId) return a;
    return undefined;
  }

  /** What the master puts into offers for this agent (Offer.unavailability), if it is scheduled for maintenance. */
  unavailabilityOf(a: { hostname: string; ip: string }): Unavailability | undefined {
    if (this.schedule.windows.length === 0) return undefined;
    return this.windowOf(a)?.unavailability;
  }

  get current(): MaintenanceSchedule {
    return this.schedule;
  }

  /**
   * Replaces the schedule (POST /maintenance/schedule). Agents whose window changed or went away lose their
   * outstanding inverse offers (rescinded); answers recorded for machines no longer scheduled, or rescheduled, are cleared.
   */
  update(next: MaintenanceSchedule): void {
    const before = new Map<string, Unavailability | undefined>();
    for (const a of this.host.agents()) before.set(a.id, this.unavailabilityOf(a));
    const oldMachines = new Map<string, Unavailability>();
    for (const w of this.schedule.windows) for (const m of w.machine_ids) oldMachines.set(machineKey(m), w.unavailability);
    this.schedule = next;
    const newMachines = new Map<string, Unavailability>();
    for (const w of next.windows) for (const m of w.machine_ids) newMachines.set(machineKey(m), w.unavailability);
    for (const [k, u] of oldMachines) if (!sameUnavailability(u, newMachines.get(k))) this.statuses.delete(k);
    for (const a of this.host.agents()) {
      if (sameUnavailability(before.get(a.id), this.unavailabilityOf(a))) continue;
      for (const io of [...this.inverseOffers.values()]) if (io.agentId === a.id) this.remove(io, true);
    }
    this.log.info({ windows: next.windows.length, machines: newMachines.size }, 'maintenance schedule updated');
  }

  /** The allocator's inverse offer pass; the master calls it at the end of each allocation cycle. Returns how many it sent. */
  sendInverseOffers(): number {
    if (this.schedule.windows.length === 0) return 0;
    const now = this.host.clock.now();
    const outstanding = new Set([...this.inverseOffers.values()].map((io) => `${io.frameworkId}|${io.agentId}`));
    const batches = new Map<string, InverseOffer[]>();
    for (const a of this.host.agents()) {
      if (!a.active) continue;
      const w = this.windowOf(a);
      if (!w) continue;
      for (const fid of this.host.frameworksOn(a.id)) {
        const k = `${fid}|${a.id}`;
        if (outstanding.has(k)) continue;
        const until = this.filters.get(k);
        if (until !== undefined) {
          if (until > now) continue;
          this.filters.delete(k);
        }
        const io: OutstandingInverseOffer = { id: this.host.newOfferId(), frameworkId: fid, agentId: a.id, machine: w.machine, sentAt: now };
        if (this.host.offerTimeoutMs !== undefined) io.timer = this.host.clock.after(this.host.offerTimeoutMs, () => this.remove(io, true));
        this.inverseOffers.set(io.id, io);
        outstanding.add(k);
        let list = batches.get(fid);
        if (!list) batches.set(fid, (list = []));
        // Empty resources: the inverse offer covers the whole agent (the allocator's UnavailableResources{Resources(), …}).
        list.push({ id: { value: io.id }, url: this.host.agentUrl(a.id), framework_id: { value: fid }, agent_id: { value: a.id }, unavailability: w.unavailability, resources: [] });
      }
    }
    let n = 0;
    for (const [fid, list] of batches) {
      this.host.send(fid, { type: 'INVERSE_OFFERS', inverse_offers: { inverse_offers: list } });
      n += list.length;
    }
    this.stats.inverseOffersSent += n;
    return n;
  }

  /**
   * ACCEPT_INVERSE_OFFERS / DECLINE_INVERSE_OFFERS, as master.cpp processes them: each outstanding inverse offer of
   * this framework is answered and removed, ids that are not are ignored (and reported back). The call's filters
   * (refuse_seconds, default 5 as in mesos.proto) keep the next inverse offer for that agent from this framework away.
   */
  respond(frameworkId: string, ids: string[], status: 'ACCEPT' | 'DECLINE', filters: Filters | undefined): { answered: number; ignored: string[] } {
    const now = this.host.clock.now();
    const ignored: string[] = [];
    let answered = 0;
    for (const id of ids) {
      const io = this.inverseOffers.get(id);
      if (!io || io.frameworkId !== frameworkId) {
        ignored.push(id);
        continue;
      }
      this.remove(io, false);
      let m = this.statuses.get(io.machine);
      if (!m) this.statuses.set(io.machine, (m = new Map()));
      m.set(frameworkId, { status, at: now });
      const refuse = refuseSeconds(filters?.refuse_seconds);
      if (refuse > 0) this.filters.set(`${frameworkId}|${io.agentId}`, now + refuse * 1000);
      this.responses.push({ inverse_offer_id: io.id, framework_id: frameworkId, agent_id: io.agentId, hostname: this.agent(io.agentId)?.hostname ?? '', status, refuse_seconds: refuse, at: now / 1000 });
      if (this.responses.length > MAX_RESPONSES) this.responses.splice(0, this.responses.length - MAX_RESPONSES);
      if (status === 'ACCEPT') this.stats.accepted++;
      else this.stats.declined++;
      answered++;
    }
    if (ignored.length) this.log.warn({ framework: frameworkId, ignored, status }, 'ignoring answers to inverse offers that are no longer valid');
    return { answered, ignored };
  }

  private remove(io: OutstandingInverseOffer, rescind: boolean): void {
    if (!this.inverseOffers.delete(io.id)) return;
    io.timer?.cancel();
    if (rescind) {
      this.stats.rescinded++;
      this.host.send(io.frameworkId, { type: 'RESCIND_INVERSE_OFFER', rescind_inverse_offer: { inverse_offer_id: { value: io.id } } });
    }
  }

  /** The framework disconnected, failed over or was removed: its inverse offers are void (not rescinded: no stream). */
  frameworkGone(frameworkId: string): void {
    for (const io of [...this.inverseOffers.values()]) if (io.frameworkId === frameworkId) this.remove(io, false);
  }

  /** The agent was lost or removed: its inverse offers are rescinded, as removeSlave/markUnreachable do. */
  agentGone(agentId: string): void {
    for (const io of [...this.inverseOffers.values()]) if (io.agentId === agentId) this.remove(io, true);
  }

  /** A new leader: the schedule (in the registry) survives, inverse offers and answers do not (maintenance/status docs). */
  leaderFailover(): void {
    for (const io of [...this.inverseOffers.values()]) this.remove(io, false);
    this.statuses.clear();
    this.filters.clear();
  }

  stop(): void {
    for (const io of this.inverseOffers.values()) io.timer?.cancel();
  }

  /** GET /maintenance/status: draining machines with the frameworks' latest answers (DOWN is not emulated). */
  status(): { draining_machines: { id: MachineID; statuses: { framework_id: { value: string }; status: InverseOfferStatus; timestamp: { nanoseconds: number } }[] }[]; down_machines: MachineID[] } {
    const draining = [];
    for (const w of this.schedule.windows)
      for (const id of w.machine_ids) {
        const st = this.statuses.get(machineKey(id)) ?? new Map<string, StatusRecord>();
        draining.push({
          id,
          statuses: [...st].map(([fid, s]) => ({ framework_id: { value: fid }, status: s.status, timestamp: { nanoseconds: Math.round(s.at * 1e6) } })),
        });
      }
    return { draining_machines: draining, down_machines: [] };
  }

  /** GET /emulator/maintenance: the schedule, each scheduled agent with its outstanding inverse offers and answers. */
  toJSON(): Record<string, unknown> {
    const agents = [];
    for (const a of this.host.agents()) {
      const w = this.windowOf(a);
      if (!w) continue;
      const statuses = this.statuses.get(w.machine) ?? new Map<string, StatusRecord>();
      agents.push({
        id: a.id,
        hostname: a.hostname,
        unavailability: w.unavailability,
        outstanding_inverse_offers: [...this.inverseOffers.values()].filter((io) => io.agentId === a.id).map((io) => ({ id: io.id, framework_id: io.frameworkId, sent_at: io.sentAt / 1000 })),
        statuses: [...statuses].map(([fid, s]) => ({ framework_id: fid, status: s.status, timestamp: s.at / 1000 })),
        accepted_by: [...statuses].filter(([, s]) => s.status === 'ACCEPT').map(([fid]) => fid),
        declined_by: [...statuses].filter(([, s]) => s.status === 'DECLINE').map(([fid]) => fid),
      });
    }
    return { schedule: this.schedule, agents, responses: [...this.responses], stats: { ...this.stats } };
  }
}

function refuseSeconds(v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v) || v < 0) return DEFAULT_FILTER_SECONDS;
  return Math.min(v, 365 * 24 * 3600);
}
