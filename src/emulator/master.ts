import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Logger } from '../telemetry/log.js';
import { silentLogger } from '../telemetry/log.js';
import { Agent, type AgentSpec, type ExecutorRun, type ExecutorSink, key, type Task, type UpdateStream } from './agent.js';
import { type Clock, systemClock, type Timer } from './clock.js';
import type { CallOutcome, ExecutorEndpoint, ExecutorLauncher, ExitStatus } from './executors.js';
import {
  type ExecutorCall,
  type ExecutorInfo,
  type FrameworkInfo,
  type MasterInfo,
  type Offer,
  type OfferOperation,
  type SchedulerCall,
  type SchedulerEvent,
  type TaskInfo,
  type TaskState,
  type TaskStatus,
  type TaskStatusReason,
  TERMINAL_STATES,
} from './proto-types.js';
import type { SchedulerCallAccept } from '../mesos/types.js';
import { bagsByRole, ResourceBag } from './resources.js';
import { Maintenance } from './maintenance.js'; // maintenance primitives

/** One framework subscription stream (the HTTP layer encodes and writes; close() ends the response). */
export interface SchedulerSink {
  readonly streamId: string;
  send(ev: SchedulerEvent): void;
  close(): void;
}

export type CallResult = { status: 202 } | { status: 200; body?: unknown } | { status: 400 | 403 | 501; message: string };

export interface MasterOptions {
  clock?: Clock;
  log?: Logger;
  /** Prefix of framework and agent ids; stable across leader failovers. */
  clusterId?: string;
  allocationIntervalMs?: number;
  heartbeatIntervalMs?: number;
  /** Offers not used within this time are rescinded; undefined = never (Mesos' default). */
  offerTimeoutMs?: number;
  /** Time from losing an agent to marking it unreachable (Mesos: agent_ping_timeout × max_agent_ping_timeouts = 75 s). */
  agentUnreachableTimeoutMs?: number;
  /** First retry of an unacknowledged status update (Mesos: 10 s, doubling up to 10 min). */
  statusUpdateRetryMs?: number;
  executorRegistrationTimeoutMs?: number;
  launcher?: ExecutorLauncher;
  /** Base environment every executor inherits (a real agent passes its own); the CLI gives process.env. */
  baseEnv?: Record<string, string>;
  /** Sandbox root: <workDir>/slaves/<agent>/frameworks/<fw>/executors/<id>/runs/<container>. */
  workDir?: string;
  version?: string;
  /** Seeded randomness for agent order in allocation. */
  random?: () => number;
}

interface Filter {
  role: string;
  bag: ResourceBag;
  expiresAt: number;
}

interface OfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  parts: Map<string, ResourceBag>;
  timer?: Timer;
}

interface Framework {
  id: string;
  info: FrameworkInfo;
  roles: string[];
  capabilities: Set<string>;
  sink?: SchedulerSink;
  suppressed: Set<string>;
  filters: Map<string, Filter[]>;
  offers: Set<string>;
  /** cpus/mem in use or offered, for DRF. */
  allocated: ResourceBag;
  tasks: Map<string, Task>;
  completed: Task[];
  failoverTimer?: Timer;
  heartbeatTimer?: Timer;
  registeredTime: number;
  reregisteredTime?: number;
  unregisteredTime?: number;
}

const DEFAULTS = {
  allocationIntervalMs: 1000,
  heartbeatIntervalMs: 15_000,
  agentUnreachableTimeoutMs: 75_000,
  statusUpdateRetryMs: 10_000,
  executorRegistrationTimeoutMs: 60_000,
};
const MAX_STATUS_RETRY_MS = 600_000;
const DEFAULT_REFUSE_SECONDS = 5;
const MAX_COMPLETED_TASKS = 1000;
const SHUTDOWN_GRACE_MS = 5000; // the agent's --executor_shutdown_grace_period

const hex = (u?: Uint8Array) => (u ? Buffer.from(u).toString('hex') : '');
const isTerminal = (s: TaskState) => TERMINAL_STATES.has(s);
const id = (value: string) => ({ value });

export class Master implements ExecutorEndpoint {
  readonly clusterId: string;
  masterId: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly opts: Required<Pick<MasterOptions, keyof typeof DEFAULTS>> & MasterOptions;
  private readonly random: () => number;
  readonly agents = new Map<string, Agent>();
  readonly frameworks = new Map<string, Framework>();
  private readonly removedFrameworks = new Map<string, Framework>();
  private readonly offers = new Map<string, OfferRecord>();
  private readonly executorsByToken = new Map<string, ExecutorRun>();
  private readonly executorSinks = new Map<ExecutorSink, ExecutorRun>();
  /** Command executors whose command runs as a real process (process mode). */
  private readonly commandProcesses = new Set<ExecutorRun>();
  private nextFramework = 0;
  private nextAgent = 0;
  private nextOffer = 0;
  private allocationTimer?: Timer;
  private promptAllocation?: Timer;
  private running = false;
  private address = { hostname: 'localhost', ip: '127.0.0.1', port: 5050 };
  private readonly startTime: number;
  private electedTime: number;
  readonly stats = { offersSent: 0, allocationCycles: 0, lastCycleMs: 0, totalCycleMs: 0, updatesForwarded: 0 };
  /** Maintenance schedule, inverse offers and the frameworks' answers. */
  readonly maintenance: Maintenance;

  constructor(opts: MasterOptions = {}) {
    for (const [k, v] of Object.entries(opts)) {
      if (k.endsWith('Ms') && v !== undefined && (typeof v !== 'number' || !(v >= 0))) throw new TypeError(`MasterOptions.${k} must be a number ≥ 0, got ${String(v)}`);
    }
    if (opts.allocationIntervalMs === 0) throw new TypeError('MasterOptions.allocationIntervalMs must be > 0');
    this.opts = { ...DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger();
    this.random = opts.random ?? Math.random;
    this.clusterId = opts.clusterId ?? defaultClusterId(this.clock.now());
    this.masterId = randomUUID();
    this.startTime = this.electedTime = this.clock.now();
    // ---- maintenance ----
    this.maintenance = new Maintenance({
      clock: this.clock,
      log: this.log,
      agents: () => [...this.agents.values()].filter((a) => a.state !== 'gone').map((a) => ({ id: a.id, hostname: a.hostname, ip: this.agentEndpoint.ip, active: a.state === 'active' })),
      frameworksOn: (agentId) => this.frameworksOnAgent(agentId),
      send: (fid, ev) => this.frameworks.get(fid)?.sink?.send(ev),
      newOfferId: () => `${this.masterId}-O${this.nextOffer++}`,
      agentUrl: (agentId) => ({ scheme: 'http', address: { hostname: this.agents.get(agentId)?.hostname ?? '', ip: this.agentEndpoint.ip, port: this.agentEndpoint.port }, path: '/slave(1)' }),
      offerTimeoutMs: this.opts.offerTimeoutMs,
    });
  }

  /** Subscribed frameworks with resources offered or in use on the agent: who gets its inverse offers. */
  private frameworksOnAgent(agentId: string): string[] {
    const a = this.agents.get(agentId);
    if (!a) return [];
    const ids = new Set<string>();
    for (const o of this.offers.values()) if (o.agentId === agentId) ids.add(o.frameworkId);
    for (const t of a.tasks.values()) if (t.holdsResources) ids.add(t.frameworkId);
    for (const e of a.executors.values()) if (e.state !== 'terminated') ids.add(e.frameworkId);
    return [...ids].filter((fid) => this.frameworks.get(fid)?.sink).sort();
  }

  /** POST /maintenance/schedule: replaces the schedule; inverse offers follow on the next allocation. */
  updateMaintenanceSchedule(schedule: Parameters<Maintenance['update']>[0]): void {
    this.maintenance.update(schedule);
    this.scheduleAllocation();
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------------

  /** Starts the allocation loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    // Fixed rate, as the allocator's periodic batch: a slow cycle does not push the next one back.
    const tick = () => {
      if (!this.running) return;
      const began = this.clock.now();
      this.allocate();
      this.allocationTimer = this.clock.after(Math.max(0, this.opts.allocationIntervalMs - (this.clock.now() - began)), tick);
    };
    this.allocationTimer = this.clock.after(this.opts.allocationIntervalMs, tick);
  }

  /** Stops timers, closes streams and kills executors. */
  stop(): void {
    this.running = false;
    this.allocationTimer?.cancel();
    this.promptAllocation?.cancel();
    for (const fw of this.frameworks.values()) {
      fw.failoverTimer?.cancel();
      fw.heartbeatTimer?.cancel();
      fw.sink?.close();
      fw.sink = undefined;
    }
    for (const a of this.agents.values()) {
      a.unreachableTimer?.cancel();
      for (const s of a.streams.values()) s.retryTimer?.cancel();
      for (const e of a.executors.values()) this.destroyExecutor(a, e, false);
    }
    for (const o of this.offers.values()) o.timer?.cancel();
    this.maintenance.stop();
  }

  /** Where this master is reachable; goes into MasterInfo and offers' agent URL. */
  setAddress(hostname: string, ip: string, port: number): void {
    this.address = { hostname, ip, port };
  }

  masterInfo(): MasterInfo {
    const { hostname, ip, port } = this.address;
    return {
      id: this.masterId,
      ip: ipToInt(ip),
      port,
      pid: `master@${ip}:${port}`,
      hostname,
      version: this.opts.version ?? '1.11.0',
      address: { hostname, ip, port },
    };
  }

  // ---- agents ----------------------------------------------------------------------------------------------------

  addAgent(spec: AgentSpec): Agent {
    const a = new Agent(`${this.clusterId}-S${this.nextAgent++}`, spec, this.clock.now());
    this.agents.set(a.id, a);
    this.log.debug({ agent: a.id, hostname: a.hostname, zone: a.zone }, 'agent registered');
    this.scheduleAllocation();
    return a;
  }

  get agentCount(): number {
    return this.agents.size;
  }

  // ---- scheduler API ---------------------------------------------------------------------------------------------

  /** SUBSCRIBE: answers on the sink (SUBSCRIBED + HEARTBEAT, or one ERROR and close). */
  subscribe(sink: SchedulerSink, call: SchedulerCall): void {
    if (call.type !== 'SUBSCRIBE') throw new TypeError('subscribe() takes a SUBSCRIBE call');
    const info = call.subscribe.framework_info;
    const invalid = validateFrameworkInfo(info);
    if (invalid) return this.refuse(sink, invalid);
    const requested = info.id?.value;
    if (requested && this.removedFrameworks.has(requested)) return this.refuse(sink, 'Framework has been removed');
    const now = this.clock.now();
    let fw = requested ? this.frameworks.get(requested) : undefined;
    if (!fw) {
      const fid = requested ?? `${this.clusterId}-${String(this.nextFramework++).padStart(4, '0')}`;
      fw = {
        id: fid,
        info: { ...info, id: id(fid) },
        roles: rolesOf(info),
        capabilities: capsOf(info),
        suppressed: new Set(),
        filters: new Map(),
        offers: new Set(),
        allocated: new ResourceBag(),
        tasks: new Map(),
        completed: [],
        registeredTime: now,
      };
      this.frameworks.set(fid, fw);
      this.adoptTasks(fw);
      this.log.info({ framework: fid, name: info.name }, 'framework subscribed');
    } else {
      if (fw.sink) {
        // A second subscription replaces the first, which is told so (master.cpp failoverFramework).
        const old = fw.sink;
        fw.sink = undefined;
        old.send({ type: 'ERROR', error: { message: 'Framework failed over' } });
        old.close();
      }
      fw.failoverTimer?.cancel();
      fw.failoverTimer = undefined;
      fw.info = { ...info, id: id(fw.id) };
      fw.roles = rolesOf(info);
      fw.capabilities = capsOf(info);
      fw.reregisteredTime = now;
      fw.unregisteredTime = undefined;
      // Offers are rescinded and regenerated each time the framework (re-)registers (reconciliation.md).
      for (const oid of [...fw.offers]) this.removeOffer(oid, false);
      this.maintenance.frameworkGone(fw.id); // inverse offers go with the old subscription
      this.log.info({ framework: fw.id }, 'framework re-subscribed');
    }
    fw.suppressed = new Set(call.subscribe.suppressed_roles ?? []);
    fw.sink = sink;
    sink.send({
      type: 'SUBSCRIBED',
      subscribed: { framework_id: id(fw.id), heartbeat_interval_seconds: this.opts.heartbeatIntervalMs / 1000, master_info: this.masterInfo() },
    });
    this.heartbeat(fw);
    // Updates the agents hold for this framework are resent now rather than at their next retry.
    for (const a of this.agents.values()) for (const s of a.streams.values()) if (s.frameworkId === fw.id) this.forwardHead(a, s);
    this.scheduleAllocation();
  }

  private refuse(sink: SchedulerSink, message: string): void {
    sink.send({ type: 'ERROR', error: { message } });
    sink.close();
  }

  private heartbeat(fw: Framework): void {
    fw.heartbeatTimer?.cancel();
    const beat = () => {
      if (!fw.sink) return;
      fw.sink.send({ type: 'HEARTBEAT' });
      fw.heartbeatTimer = this.clock.after(this.opts.heartbeatIntervalMs, beat);
    };
    beat();
  }

  /** The HTTP layer reports a subscription stream that ended (client went away). */
  disconnected(sink: SchedulerSink): void {
    for (const fw of this.frameworks.values()) {
      if (fw.sink !== sink) continue;
      this.deactivate(fw);
      return;
    }
  }

  private deactivate(fw: Framework): void {
    fw.sink = undefined;
    fw.heartbeatTimer?.cancel();
    fw.unregisteredTime = this.clock.now();
    for (const oid of [...fw.offers]) this.removeOffer(oid, true);
    this.maintenance.frameworkGone(fw.id);
    const timeoutMs = Math.max(0, (fw.info.failover_timeout ?? 0) * 1000);
    this.log.info({ framework: fw.id, failoverTimeoutMs: timeoutMs }, 'framework disconnected');
    fw.failoverTimer?.cancel();
    fw.failoverTimer = this.clock.after(timeoutMs, () => {
      if (!fw.sink) this.removeFramework(fw, 'failover timeout');
    });
  }

  /** Checks a non-SUBSCRIBE call the way master/http.cpp does, then dispatches it. */
  call(call: SchedulerCall, streamId: string | undefined): CallResult {
    const fw = this.frameworks.get(call.framework_id!.value);
    if (!fw) return { status: 400, message: 'Framework cannot be found' };
    if (!fw.sink) return { status: 403, message: 'Framework is not subscribed' };
    if (streamId === undefined) return { status: 400, message: "All non-subscribe calls should include the 'Mesos-Stream-Id' header" };
    if (streamId !== fw.sink.streamId)
      return {
        status: 400,
        message: `The stream ID '${streamId}' included in this request didn't match the stream ID currently associated with framework ID ${fw.id}`,
      };
    switch (call.type) {
      case 'TEARDOWN':
        this.removeFramework(fw, 'teardown');
        return { status: 202 };
      case 'ACCEPT':
        this.accept(fw, call.accept!);
        return { status: 202 };
      case 'DECLINE':
        for (const o of call.decline!.offer_ids ?? []) this.declineOffer(fw, o.value, call.decline!.filters?.refuse_seconds);
        return { status: 202 };
      // ---- maintenance ----
      case 'ACCEPT_INVERSE_OFFERS':
        this.maintenance.respond(fw.id, (call.accept_inverse_offers.inverse_offer_ids ?? []).map((o) => o.value), 'ACCEPT', call.accept_inverse_offers.filters);
        return { status: 202 };
      case 'DECLINE_INVERSE_OFFERS':
        this.maintenance.respond(fw.id, (call.decline_inverse_offers.inverse_offer_ids ?? []).map((o) => o.value), 'DECLINE', call.decline_inverse_offers.filters);
        return { status: 202 };
      case 'REQUEST':
      case 'ACKNOWLEDGE_OPERATION_STATUS':
        return { status: 202 };
      case 'REVIVE':
        this.revive(fw, rolesArg(call.revive));
        return { status: 202 };
      case 'SUPPRESS':
        for (const r of rolesArg(call.suppress) ?? fw.roles) fw.suppressed.add(r);
        return { status: 202 };
      case 'KILL':
        this.kill(fw, call.kill!.task_id.value, call.kill!.agent_id?.value);
        return { status: 202 };
      case 'SHUTDOWN':
        this.shutdownExecutor(fw, call.shutdown!.agent_id.value, call.shutdown!.executor_id.value);
        return { status: 202 };
      case 'ACKNOWLEDGE':
        this.acknowledge(fw, call.acknowledge!.agent_id.value, call.acknowledge!.task_id.value, call.acknowledge!.uuid);
        return { status: 202 };
      case 'RECONCILE':
        this.reconcile(fw, call.reconcile?.tasks ?? []);
        return { status: 202 };
      case 'MESSAGE': {
        const m = call.message!;
        const e = this.agents.get(m.agent_id.value)?.executors.get(key(fw.id, m.executor_id.value));
        if (e?.sink && this.agents.get(m.agent_id.value)?.hostUp) e.sink.send({ type: 'MESSAGE', message: { data: m.data } });
        return { status: 202 };
      }
      case 'UPDATE_FRAMEWORK': {
        const info = call.update_framework!.framework_info;
        const invalid = validateFrameworkInfo(info);
        if (invalid) return { status: 400, message: invalid };
        if (info.id?.value !== fw.id) return { status: 400, message: "'framework_info.id' differs from the framework's id" };
        fw.info = { ...info, id: id(fw.id) };
        fw.roles = rolesOf(info);
        fw.capabilities = capsOf(info);
        fw.suppressed = new Set(call.update_framework!.suppressed_roles ?? []);
        for (const oid of [...fw.offers]) {
          const o = this.offers.get(oid);
          if (o && !fw.roles.includes(o.role)) this.removeOffer(oid, true);
        }
        this.scheduleAllocation();
        return { status: 200 };
      }
      default:
        return { status: 501, message: `Call type ${call.type} is not implemented` };
    }
  }

  private revive(fw: Framework, roles: string[] | undefined): void {
    const rs = roles ?? fw.roles;
    for (const r of rs) fw.suppressed.delete(r);
    for (const [agentId, fs] of fw.filters) {
      const left = fs.filter((f) => !rs.includes(f.role));
      if (left.length) fw.filters.set(agentId, left);
      else fw.filters.delete(agentId);
    }
    this.scheduleAllocation();
  }

  private removeFramework(fw: Framework, why: string): void {
    this.log.info({ framework: fw.id, why }, 'framework removed');
    fw.failoverTimer?.cancel();
    fw.heartbeatTimer?.cancel();
    for (const oid of [...fw.offers]) this.removeOffer(oid, false);
    this.maintenance.frameworkGone(fw.id);
    const sink = fw.sink;
    fw.sink = undefined;
    sink?.close();
    const now = this.clock.now();
    for (const t of [...fw.tasks.values()]) {
      const a = this.agents.get(t.agentId);
      if (!isTerminal(t.state)) {
        t.state = 'TASK_KILLED';
        t.lastStatus = { ...this.masterStatus(t, 'TASK_KILLED', 'REASON_FRAMEWORK_REMOVED', 'Framework removed'), timestamp: now / 1000 };
      }
      if (a) this.releaseTask(a, t);
      this.forgetTask(t);
    }
    for (const a of this.agents.values()) {
      // The agent shuts the framework's executors down: SHUTDOWN, then a kill after the grace period.
      for (const e of [...a.executors.values()]) {
        if (e.frameworkId !== fw.id) continue;
        e.shutdownRequested = true;
        if (e.sink && a.hostUp) {
          e.sink.send({ type: 'SHUTDOWN' });
          this.clock.after(SHUTDOWN_GRACE_MS, () => e.handle?.kill());
        } else if (e.handle) e.handle.kill();
        else this.destroyExecutor(a, e, false);
      }
      for (const [k, s] of a.streams) {
        if (s.frameworkId !== fw.id) continue;
        s.retryTimer?.cancel();
        a.streams.delete(k);
      }
    }
    this.frameworks.delete(fw.id);
    this.removedFrameworks.set(fw.id, fw);
    this.scheduleAllocation();
  }

  /** After a leader failover a framework re-subscribes with its id: the agents report its tasks back to the master. */
  private adoptTasks(fw: Framework): void {
    for (const a of this.agents.values()) for (const t of a.tasks.values()) if (t.frameworkId === fw.id) fw.tasks.set(t.info.task_id.value, t);
  }

  // ---- offers and allocation -------------------------------------------------------------------------------------

  private scheduleAllocation(): void {
    if (!this.running || this.promptAllocation) return;
    this.promptAllocation = this.clock.after(0, () => {
      this.promptAllocation = undefined;
      this.allocate();
    });
  }

  /** One allocation cycle: every offerable agent goes to the framework (and role) with the lowest dominant share. */
  allocate(): number {
    const t0 = performance.now();
    const now = this.clock.now();
    const fws = [...this.frameworks.values()].filter((f) => f.sink && f.roles.some((r) => !f.suppressed.has(r)));
    let made = 0;
    if (fws.length) {
      // DRF: dominant share of cpus/mem; with one framework there is nothing to order.
      let share = (_f: Framework) => 0;
      if (fws.length > 1) {
        const total = new ResourceBag();
        for (const a of this.agents.values()) if (a.state === 'active') for (const b of a.total.values()) total.add(b);
        const cpus = total.scalar('cpus');
        const mem = total.scalar('mem');
        share = (f) => Math.max(safeDiv(f.allocated.scalar('cpus'), cpus), safeDiv(f.allocated.scalar('mem'), mem));
      }
      const shares = new Map(fws.map((f) => [f, share(f)]));
      const batches = new Map<Framework, Offer[]>();
      const agents = [...this.agents.values()];
      const start = agents.length ? Math.floor(this.random() * agents.length) : 0;
      for (let n = 0; n < agents.length; n++) {
        const a = agents[(start + n) % agents.length];
        if (a.state !== 'active') continue;
        const order = fws.length === 1 ? fws : [...fws].sort((x, y) => shares.get(x)! - shares.get(y)! || (x.id < y.id ? -1 : 1));
        for (const fw of order) {
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
        this.stats.offersSent += list.length;
      }
    }
    this.maintenance.sendInverseOffers(); // the allocator's deallocate() pass
    const ms = performance.now() - t0;
    this.stats.allocationCycles++;
    this.stats.lastCycleMs = ms;
    this.stats.totalCycleMs += ms;
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
    const oid = `${this.masterId}-O${this.nextOffer++}`;
    const rec: OfferRecord = { id: oid, frameworkId: fw.id, agentId: a.id, role, parts };
    if (this.opts.offerTimeoutMs !== undefined) rec.timer = this.clock.after(this.opts.offerTimeoutMs, () => this.removeOffer(oid, true));
    this.offers.set(oid, rec);
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
      url: { scheme: 'http', address: { hostname: a.hostname, ip: this.agentEndpoint.ip, port: this.agentEndpoint.port }, path: '/slave(1)' },
      resources,
      attributes: a.attributes,
      executor_ids: [...a.executors.values()].filter((e) => e.frameworkId === fw.id && e.state !== 'terminated').map((e) => id(e.executorId)),
    };
    if (a.zone) offer.domain = { fault_domain: { region: { name: a.region ?? 'default' }, zone: { name: a.zone } } };
    if (multiRole) offer.allocation_info = { role };
    const unavailability = this.maintenance.unavailabilityOf({ hostname: a.hostname, ip: this.agentEndpoint.ip });
    if (unavailability) offer.unavailability = unavailability;
    return offer;
  }

  /** Takes an offer back; `rescind` tells the framework (RESCIND), as for timeouts and lost agents. */
  private removeOffer(oid: string, rescind: boolean, filter?: { refuseSeconds: number; unused?: Map<string, ResourceBag> }): OfferRecord | undefined {
    const o = this.offers.get(oid);
    if (!o) return undefined;
    this.offers.delete(oid);
    o.timer?.cancel();
    const fw = this.frameworks.get(o.frameworkId);
    const a = this.agents.get(o.agentId);
    const back = filter?.unused ?? o.parts;
    if (fw) {
      fw.offers.delete(oid);
      for (const b of back.values()) addScalars(fw.allocated, b, -1);
      if (filter && filter.refuseSeconds > 0 && a) {
        const bag = new ResourceBag();
        for (const b of back.values()) bag.add(b);
        if (!bag.isEmpty()) {
          const list = fw.filters.get(a.id) ?? [];
          list.push({ role: o.role, bag, expiresAt: this.clock.now() + filter.refuseSeconds * 1000 });
          fw.filters.set(a.id, list);
        }
      }
      if (rescind) fw.sink?.send({ type: 'RESCIND', rescind: { offer_id: id(oid) } });
    }
    // The offer is gone, so its bags can move back into the agent's pool as they are.
    if (a) a.release(back, true);
    return o;
  }

  private declineOffer(fw: Framework, oid: string, refuseSeconds: number | undefined): void {
    const o = this.offers.get(oid);
    if (!o || o.frameworkId !== fw.id) return;
    this.removeOffer(oid, false, { refuseSeconds: refuseOf(refuseSeconds) });
  }

  // ---- ACCEPT ----------------------------------------------------------------------------------------------------

  private accept(fw: Framework, accept: SchedulerCallAccept): void {
    const ids = (accept.offer_ids ?? []).map((o) => o.value);
    const ops = accept.operations ?? [];
    const offerError = this.validateOffers(fw, ids);
    if (offerError) {
      // master.cpp accept(): launches with invalid offers are dropped (TASK_LOST for non-partition-aware frameworks).
      for (const oid of ids) if (this.offers.get(oid)?.frameworkId === fw.id) this.removeOffer(oid, false);
      const state: TaskState = fw.capabilities.has('PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST';
      for (const t of launchedTasks(ops))
        this.sendMasterUpdate(fw, {
          task_id: t.task_id,
          agent_id: t.agent_id,
          state,
          source: 'SOURCE_MASTER',
          reason: 'REASON_INVALID_OFFERS',
          message: `Task launched with invalid offers: ${offerError}`,
          timestamp: this.clock.now() / 1000,
        });
      return;
    }
    const records = ids.map((oid) => this.offers.get(oid)!);
    const a = this.agents.get(records[0].agentId)!;
    const role = records[0].role;
    const remaining = new Map<string, ResourceBag>();
    for (const r of records) {
      this.offers.delete(r.id);
      r.timer?.cancel();
      fw.offers.delete(r.id);
      for (const [pool, b] of r.parts) {
        const cur = remaining.get(pool);
        if (cur) cur.add(b);
        else remaining.set(pool, b.clone());
      }
    }
    const offeredTotal = new ResourceBag();
    for (const b of remaining.values()) offeredTotal.add(b);
    const seen = new Set<string>();
    for (const op of ops) {
      if (op.type === 'LAUNCH') {
        for (const t of op.launch?.task_infos ?? []) {
          const err = this.validateTask(fw, a, t, t.executor, remaining, seen);
          if (err) this.taskError(fw, t, 'REASON_TASK_INVALID', err);
          else this.launch(fw, a, role, remaining, t.executor, [t], false);
        }
      } else if (op.type === 'LAUNCH_GROUP') {
        const g = op.launch_group;
        const tasks = g?.task_group?.tasks ?? [];
        let err: string | undefined;
        if (!g?.executor) err = "'LaunchGroup' must have an 'executor'";
        for (const t of tasks) {
          if (err) break;
          if (t.executor) err = `Task '${t.task_id.value}' in a task group must not have an executor`;
          else err = this.validateTask(fw, a, { ...t, executor: g!.executor }, g!.executor, remaining, seen, true);
        }
        if (!err && g && !this.fits(remaining, this.groupNeeds(fw, a, g.executor, tasks))) err = 'Task group uses more resources than offered';
        if (err) for (const t of tasks) this.taskError(fw, t, 'REASON_TASK_GROUP_INVALID', err);
        else this.launch(fw, a, role, remaining, g!.executor, tasks, true);
      }
      // RESERVE/UNRESERVE/CREATE/DESTROY are not emulated; their resources simply stay unused.
    }
    // Unused resources go back with the ACCEPT's filter (refuse_seconds, default 5 s).
    this.releaseUnused(fw, a, role, remaining, refuseOf(accept.filters?.refuse_seconds), offeredTotal);
  }

  private releaseUnused(fw: Framework, a: Agent, role: string, remaining: Map<string, ResourceBag>, refuseSeconds: number, _offered: ResourceBag): void {
    a.release(remaining);
    const bag = new ResourceBag();
    for (const b of remaining.values()) bag.add(b);
    addScalars(fw.allocated, bag, -1);
    if (refuseSeconds > 0 && !bag.isEmpty()) {
      const list = fw.filters.get(a.id) ?? [];
      list.push({ role, bag, expiresAt: this.clock.now() + refuseSeconds * 1000 });
      fw.filters.set(a.id, list);
    }
    this.scheduleAllocation();
  }

  private validateOffers(fw: Framework, ids: string[]): string | undefined {
    if (!ids.length) return 'No offers specified';
    const seen = new Set<string>();
    let agent: string | undefined;
    let role: string | undefined;
    for (const oid of ids) {
      if (seen.has(oid)) return `Duplicate offer ${oid} in the same accept`;
      seen.add(oid);
      const o = this.offers.get(oid);
      if (!o) return `Offer ${oid} is no longer valid`;
      if (o.frameworkId !== fw.id) return `Offer ${oid} has invalid framework ${o.frameworkId} while framework ${fw.id} is expected`;
      if (agent !== undefined && o.agentId !== agent) return 'Aggregated offers must belong to one single agent';
      if (role !== undefined && o.role !== role) return 'Aggregated offers must be allocated to the same role';
      agent = o.agentId;
      role = o.role;
      if (this.agents.get(o.agentId)?.state !== 'active') return `Agent ${o.agentId} is not active`;
    }
    return undefined;
  }

  private validateTask(
    fw: Framework,
    a: Agent,
    t: TaskInfo,
    executor: ExecutorInfo | undefined,
    remaining: Map<string, ResourceBag>,
    seen: Set<string>,
    inGroup = false,
  ): string | undefined {
    const tid = t.task_id?.value;
    if (!tid) return "'task_id' must be set";
    if (/[\\/\x00-\x1f]/.test(tid)) return `TaskID '${tid}' contains invalid characters`;
    if (seen.has(tid) || fw.tasks.has(tid)) return `Task has duplicate ID: ${tid}`;
    if (t.agent_id?.value !== a.id) return `Task uses invalid agent: ${t.agent_id?.value ?? ''}`;
    if (!inGroup && !!t.executor === !!t.command) return 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present';
    if (executor) {
      if (executor.framework_id && executor.framework_id.value !== fw.id) return `ExecutorInfo has an invalid FrameworkID (Actual: ${executor.framework_id.value} vs Expected: ${fw.id})`;
      const existing = a.executors.get(key(fw.id, executor.executor_id.value));
      if (existing && existing.state !== 'terminated' && canonical({ ...existing.info, framework_id: undefined }) !== canonical({ ...executor, framework_id: undefined }))
        return `ExecutorInfo is not compatible with existing ExecutorInfo (executor ${executor.executor_id.value})`;
    }
    const needs = ResourceBag.from(t.resources);
    if (needs.isEmpty() && !executor?.resources?.length) return 'Task and its executor use no resources';
    if (!inGroup && !this.fits(remaining, this.taskNeeds(fw, a, t, executor))) {
      const have = new ResourceBag();
      for (const b of remaining.values()) have.add(b);
      return `Task uses more resources ${JSON.stringify(needs.toJSON())} than available ${JSON.stringify(have.toJSON())}`;
    }
    seen.add(tid);
    return undefined;
  }

  private taskNeeds(fw: Framework, a: Agent, t: TaskInfo, executor: ExecutorInfo | undefined): Map<string, ResourceBag> {
    const needs = bagsByRole(t.resources);
    if (executor && !this.liveExecutor(a, fw.id, executor.executor_id.value)) mergeInto(needs, bagsByRole(executor.resources));
    return needs;
  }

  private groupNeeds(fw: Framework, a: Agent, executor: ExecutorInfo, tasks: TaskInfo[]): Map<string, ResourceBag> {
    const needs = new Map<string, ResourceBag>();
    for (const t of tasks) mergeInto(needs, bagsByRole(t.resources));
    if (!this.liveExecutor(a, fw.id, executor.executor_id.value)) mergeInto(needs, bagsByRole(executor.resources));
    return needs;
  }

  private fits(remaining: Map<string, ResourceBag>, needs: Map<string, ResourceBag>): boolean {
    for (const [pool, b] of needs) if (!(remaining.get(pool) ?? new ResourceBag()).contains(b)) return false;
    return true;
  }

  private liveExecutor(a: Agent, fid: string, eid: string): ExecutorRun | undefined {
    const e = a.executors.get(key(fid, eid));
    return e && e.state !== 'terminated' ? e : undefined;
  }

  private taskError(fw: Framework, t: TaskInfo, reason: TaskStatusReason, message: string): void {
    this.sendMasterUpdate(fw, {
      task_id: t.task_id,
      agent_id: t.agent_id,
      state: 'TASK_ERROR',
      source: 'SOURCE_MASTER',
      reason,
      message,
      timestamp: this.clock.now() / 1000,
    });
  }

  /** Accounts the tasks (and a new executor) on the agent and hands them to it. */
  private launch(fw: Framework, a: Agent, role: string, remaining: Map<string, ResourceBag>, executor: ExecutorInfo | undefined, tasks: TaskInfo[], group: boolean): void {
    let e = executor ? this.liveExecutor(a, fw.id, executor.executor_id.value) : undefined;
    if (executor && !e) {
      const res = bagsByRole(executor.resources);
      for (const [pool, b] of res) remaining.get(pool)?.subtract(b);
      e = this.createExecutor(fw, a, { ...executor, framework_id: id(fw.id) }, res, 'custom');
    }
    for (const t of tasks) {
      const res = bagsByRole(t.resources);
      for (const [pool, b] of res) remaining.get(pool)?.subtract(b);
      let te = e;
      if (!te) {
        // Command task: the agent wraps it in its command executor, whose id is the task id.
        const info: ExecutorInfo = { executor_id: id(t.task_id.value), framework_id: id(fw.id), command: t.command, name: `Command Executor (Task: ${t.task_id.value})` };
        te = this.createExecutor(fw, a, info, new Map(), 'command');
      }
      const task: Task = {
        info: { ...t, executor: executor ? { ...executor, framework_id: id(fw.id) } : undefined },
        frameworkId: fw.id,
        agentId: a.id,
        executorId: te.executorId,
        state: 'TASK_STAGING',
        resources: res,
        holdsResources: true,
        killRequested: false,
        delivered: false,
        role,
      };
      fw.tasks.set(t.task_id.value, task);
      a.tasks.set(key(fw.id, t.task_id.value), task);
      if (!group) this.deliverToExecutor(a, te, [task.info], false);
    }
    if (group && e) this.deliverToExecutor(a, e, tasks.map((t) => fw.tasks.get(t.task_id.value)!.info), true);
  }

  // ---- executors (the agent side) --------------------------------------------------------------------------------

  private createExecutor(fw: Framework, a: Agent, info: ExecutorInfo, res: Map<string, ResourceBag>, kind: 'custom' | 'command'): ExecutorRun {
    const containerId = randomUUID();
    const directory = join(
      this.opts.workDir ?? join(tmpdir(), 'kube-mesos-emulator'),
      'slaves',
      a.id,
      'frameworks',
      fw.id,
      'executors',
      info.executor_id.value,
      'runs',
      containerId,
    );
    const e: ExecutorRun = {
      agentId: a.id,
      frameworkId: fw.id,
      executorId: info.executor_id.value,
      info,
      resources: res,
      kind,
      state: 'launching',
      containerId,
      directory,
      token: randomBytes(18).toString('base64url'),
      queued: [],
      shutdownRequested: false,
    };
    a.executors.set(key(fw.id, e.executorId), e);
    this.executorsByToken.set(e.token, e);
    if (!a.reachable) return e; // the launch message never reaches a partitioned agent; see deliverToExecutor
    this.startExecutor(fw, a, e);
    return e;
  }

  private startExecutor(fw: Framework, a: Agent, e: ExecutorRun): void {
    if (e.handle || e.state === 'terminated') return;
    if (e.kind === 'command') {
      // The emulator's command executor: subscribes at once and reports the task running.
      e.handle = { kill: () => this.clock.after(0, () => this.executorExited(a, e, { code: null, signal: 'SIGKILL' })) };
      this.clock.after(0, () => this.commandExecutorSubscribed(a, e));
      return;
    }
    const launcher = this.opts.launcher;
    const env = this.executorEnv(fw, a, e);
    if (!launcher) {
      this.clock.after(0, () => this.executorExited(a, e, { code: 1, error: 'no executor launcher configured' }));
      e.handle = { kill: () => undefined };
      return;
    }
    e.handle = launcher.launch({ agentId: a.id, frameworkId: fw.id, executorId: e.executorId, info: e.info, env, directory: e.directory, token: e.token }, (s) =>
      this.executorExited(a, e, s),
    );
    e.registrationTimer = this.clock.after(this.opts.executorRegistrationTimeoutMs, () => {
      if (e.state !== 'launching') return;
      this.log.warn({ executor: e.executorId, agent: a.id }, 'executor did not subscribe in time');
      e.registrationTimedOut = true;
      e.handle?.kill();
    });
  }

  /** The environment slave.cpp executorEnvironment() gives, plus the ExecutorInfo's CommandInfo environment. */
  executorEnv(fw: Framework, a: Agent, e: ExecutorRun): Record<string, string> {
    const env: Record<string, string> = { ...(this.opts.baseEnv ?? {}) };
    if (!env.PATH) env.PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
    env.LIBPROCESS_PORT = '0';
    const checkpoint = fw.info.checkpoint === true;
    Object.assign(env, {
      MESOS_FRAMEWORK_ID: fw.id,
      MESOS_EXECUTOR_ID: e.executorId,
      MESOS_DIRECTORY: e.directory,
      MESOS_SANDBOX: e.directory,
      MESOS_SLAVE_ID: a.id,
      MESOS_SLAVE_PID: `slave(1)@${this.agentAddress()}`,
      MESOS_AGENT_ENDPOINT: this.agentAddress(),
      MESOS_CHECKPOINT: checkpoint ? '1' : '0',
      MESOS_HTTP_COMMAND_EXECUTOR: '0',
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
      MESOS_EXECUTOR_AUTHENTICATION_TOKEN: e.token,
    });
    if (checkpoint) {
      env.MESOS_RECOVERY_TIMEOUT = '15mins';
      env.MESOS_SUBSCRIPTION_BACKOFF_MAX = '2secs';
    }
    for (const v of e.info.command?.environment?.variables ?? []) if (v.value !== undefined) env[v.name] = v.value;
    return env;
  }

  private agentAddress(): string {
    return `${this.agentEndpoint.ip}:${this.agentEndpoint.port}`;
  }

  /** The address agents (and so executors) are reached at; stays put across leader failovers. */
  agentEndpoint = { ip: '127.0.0.1', port: 5051 };

  private deliverToExecutor(a: Agent, e: ExecutorRun, tasks: TaskInfo[], group: boolean): void {
    if (!a.reachable) return; // lost on the wire: the master learns when it marks the agent unreachable or it re-registers
    for (const t of tasks) {
      const task = a.tasks.get(key(e.frameworkId, t.task_id.value));
      if (task) task.delivered = true;
    }
    if (e.state === 'subscribed' && e.sink) {
      if (e.kind === 'command') return this.commandExecutorRun(a, e, tasks);
      if (group) e.sink.send({ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks } } });
      else for (const t of tasks) e.sink.send({ type: 'LAUNCH', launch: { task: t } });
    } else e.queued.push({ tasks, group });
    const fw = this.frameworks.get(e.frameworkId);
    if (fw && !e.handle) this.startExecutor(fw, a, e);
    this.resizeContainer(a, e.frameworkId, e.executorId);
  }

  /** Process mode with cgroups: the executor's container holds its own resources plus its live tasks'. */
  private resizeContainer(a: Agent, frameworkId: string, executorId: string): void {
    const e = a.executors.get(key(frameworkId, executorId));
    if (!e?.handle?.update || e.state === 'terminated') return;
    const tasks = [...a.tasks.values()].filter((t) => t.frameworkId === frameworkId && t.executorId === executorId && t.holdsResources).map((t) => t.info);
    e.handle.update({ executor: e.info.resources, tasks });
  }

  private commandExecutorSubscribed(a: Agent, e: ExecutorRun): void {
    if (e.state !== 'launching') return;
    e.state = 'subscribed';
    const queued = e.queued.splice(0);
    for (const q of queued) this.commandExecutorRun(a, e, q.tasks);
  }

  private commandExecutorRun(a: Agent, e: ExecutorRun, tasks: TaskInfo[]): void {
    const launcher = this.opts.launcher;
    const fw = this.frameworks.get(e.frameworkId);
    for (const t of tasks) {
      const update = (state: TaskState, message?: string) =>
        this.agentStatusUpdate(a, e.frameworkId, { task_id: t.task_id, state, source: 'SOURCE_EXECUTOR', executor_id: id(e.executorId), agent_id: id(a.id), ...(message ? { message } : {}) });
      update('TASK_STARTING');
      if (!launcher?.runCommand || !t.command || !fw) {
        update('TASK_RUNNING');
        continue;
      }
      // Process mode: the command really runs in the sandbox; its exit decides the terminal state.
      this.commandProcesses.add(e);
      const spec = { agentId: a.id, frameworkId: fw.id, executorId: e.executorId, info: e.info, env: this.executorEnv(fw, a, e), directory: e.directory, token: e.token };
      e.handle = launcher.runCommand(spec, t.command, (s) => {
        this.commandProcesses.delete(e);
        const task = a.tasks.get(key(e.frameworkId, t.task_id.value));
        if (a.hostUp && e.state !== 'terminated' && task && !isTerminal(task.state)) {
          if (task.killRequested) update('TASK_KILLED', 'Command terminated by KILL');
          else if (s.code === 0) update('TASK_FINISHED', 'Command exited with status 0');
          else update('TASK_FAILED', s.code === null ? `Command terminated with signal ${s.signal ?? 'unknown'}` : `Command exited with status ${s.code}${s.error ? `: ${s.error}` : ''}`);
        }
        this.executorExited(a, e, s);
      });
      update('TASK_RUNNING');
    }
  }

  private resolveExecutor(token: string | undefined, call: ExecutorCall): ExecutorRun | CallOutcome {
    let e = token ? this.executorsByToken.get(token) : undefined;
    if (!e) {
      const matches = [...this.executorsByToken.values()].filter(
        (x) => x.frameworkId === call.framework_id?.value && x.executorId === call.executor_id?.value && x.state !== 'terminated',
      );
      if (matches.length > 1) return { status: 400, message: 'Executor is ambiguous without its MESOS_EXECUTOR_AUTHENTICATION_TOKEN' };
      e = matches[0];
    }
    if (!e || e.state === 'terminated') return { status: 400, message: 'Executor cannot be found' };
    if (e.frameworkId !== call.framework_id?.value || e.executorId !== call.executor_id?.value)
      return { status: 400, message: 'Framework or executor id does not match the executor this token was issued for' };
    return e;
  }

  executorSubscribe(token: string | undefined, call: ExecutorCall, sink: ExecutorSink): CallOutcome {
    const r = this.resolveExecutor(token, call);
    if ('status' in r) return r;
    const e = r;
    const a = this.agents.get(e.agentId)!;
    const fw = this.frameworks.get(e.frameworkId);
    if (!fw) return { status: 400, message: 'Framework cannot be found' };
    if (!a.hostUp) return { status: 400, message: 'Agent is not running' };
    if (e.sink && e.sink !== sink) {
      this.executorSinks.delete(e.sink);
      e.sink.close();
    }
    e.sink = sink;
    this.executorSinks.set(sink, e);
    e.state = 'subscribed';
    e.registrationTimer?.cancel();
    const agentInfo = {
      hostname: a.hostname,
      port: this.agentEndpoint.port,
      id: id(a.id),
      resources: a.totalResources,
      attributes: a.attributes,
      ...(a.zone ? { domain: { fault_domain: { region: { name: a.region ?? 'default' }, zone: { name: a.zone } } } } : {}),
    };
    sink.send({ type: 'SUBSCRIBED', subscribed: { executor_info: e.info, framework_info: fw.info, agent_info: agentInfo, container_id: id(e.containerId) } });
    // Re-subscription: updates the executor still holds are taken (once) and acknowledged; tasks it reports as
    // unacknowledged are not launched again (slave.cpp subscribe).
    const sub = call.type === 'SUBSCRIBE' ? call.subscribe : {};
    for (const u of sub.unacknowledged_updates ?? []) {
      if (!u.status?.uuid || u.status.source !== 'SOURCE_EXECUTOR') continue;
      this.executorUpdate(a, e, u.status);
      sink.send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: u.status.task_id, uuid: u.status.uuid } });
    }
    const known = new Set((sub.unacknowledged_tasks ?? []).map((t) => t.task_id.value));
    for (const q of e.queued.splice(0)) {
      const tasks = q.tasks.filter((t) => !known.has(t.task_id.value));
      if (!tasks.length) continue;
      if (q.group) sink.send({ type: 'LAUNCH_GROUP', launch_group: { task_group: { tasks } } });
      else for (const t of tasks) sink.send({ type: 'LAUNCH', launch: { task: t } });
    }
    return { status: 200 };
  }

  executorCall(token: string | undefined, call: ExecutorCall): CallOutcome {
    const r = this.resolveExecutor(token, call);
    if ('status' in r) return r;
    const e = r;
    const a = this.agents.get(e.agentId)!;
    if (e.state !== 'subscribed') return { status: 403, message: 'Executor is not subscribed' };
    switch (call.type) {
      case 'UPDATE': {
        const status = call.update?.status;
        if (!status) return { status: 400, message: "Expecting 'update' to be present" };
        if (!status.uuid) return { status: 400, message: "Expecting 'uuid' to be present" };
        if (status.uuid.length !== 16) return { status: 400, message: 'Invalid UUID: expected 16 bytes' };
        if (status.executor_id && status.executor_id.value !== e.executorId)
          return { status: 400, message: `ExecutorID in Call: ${e.executorId} does not match ExecutorID in TaskStatus: ${status.executor_id.value}` };
        if (status.source !== 'SOURCE_EXECUTOR')
          return { status: 400, message: `Received Call from executor ${e.executorId} of framework ${e.frameworkId} with invalid source, expecting 'SOURCE_EXECUTOR'` };
        if (status.state === 'TASK_STAGING') return { status: 400, message: `Received TASK_STAGING from executor ${e.executorId} of framework ${e.frameworkId} which is not allowed` };
        if (!a.hostUp) return { status: 400, message: 'Agent is not running' };
        this.executorUpdate(a, e, status);
        // The agent acknowledges to the executor once its status update manager holds the update.
        e.sink?.send({ type: 'ACKNOWLEDGED', acknowledged: { task_id: status.task_id, uuid: status.uuid } });
        return { status: 202 };
      }
      case 'MESSAGE': {
        const fw = this.frameworks.get(e.frameworkId);
        if (a.reachable) fw?.sink?.send({ type: 'MESSAGE', message: { agent_id: id(a.id), executor_id: id(e.executorId), data: call.message?.data ?? new Uint8Array() } });
        return { status: 202 };
      }
      case 'HEARTBEAT':
        return { status: 202 };
      default:
        return { status: 400, message: `Call type ${call.type} is not supported` };
    }
  }

  /** An update from the executor; a retried one (same uuid) is acknowledged again but handled once. */
  private executorUpdate(a: Agent, e: ExecutorRun, status: TaskStatus): void {
    const u = hex(status.uuid);
    if (!a.handledUpdates.has(u)) {
      a.handledUpdates.add(u);
      if (a.handledUpdates.size > 100_000) a.handledUpdates.delete(a.handledUpdates.values().next().value as string);
      this.agentStatusUpdate(a, e.frameworkId, { ...status, executor_id: id(e.executorId), agent_id: id(a.id) });
    }
  }

  executorStreamClosed(sink: ExecutorSink): void {
    const e = this.executorSinks.get(sink);
    this.executorSinks.delete(sink);
    if (e && e.sink === sink) e.sink = undefined;
  }

  private executorExited(a: Agent, e: ExecutorRun, status: ExitStatus): void {
    if (e.state === 'terminated') return;
    const neverSubscribed = e.state === 'launching';
    const fw = this.releaseExecutor(a, e);
    if (!a.hostUp) return; // the host went down with it; the master learns when the agent comes back
    this.log.info({ agent: a.id, executor: e.executorId, status }, 'executor exited');
    for (const t of a.tasks.values()) {
      if (t.frameworkId !== e.frameworkId || t.executorId !== e.executorId || isTerminal(t.state)) continue;
      const killed = t.killRequested || e.shutdownRequested;
      const reason = e.registrationTimedOut && neverSubscribed ? 'REASON_EXECUTOR_REGISTRATION_TIMEOUT' : 'REASON_EXECUTOR_TERMINATED';
      this.agentStatusUpdate(a, e.frameworkId, {
        task_id: t.info.task_id,
        state: killed ? 'TASK_KILLED' : 'TASK_FAILED',
        source: 'SOURCE_AGENT',
        reason,
        message: status.error ? `Executor terminated: ${status.error}` : 'Executor terminated',
        executor_id: id(e.executorId),
        agent_id: id(a.id),
      });
    }
    if (fw?.sink && a.reachable && e.kind === 'custom')
      fw.sink.send({ type: 'FAILURE', failure: { agent_id: id(a.id), executor_id: id(e.executorId), status: exitStatusCode(status) } });
    this.scheduleAllocation();
  }

  /** Marks the executor terminated and gives its resources back to the agent and its framework's allocation. */
  private releaseExecutor(a: Agent, e: ExecutorRun) {
    e.state = 'terminated';
    e.registrationTimer?.cancel();
    if (e.sink) {
      this.executorSinks.delete(e.sink);
      e.sink.close();
      e.sink = undefined;
    }
    this.executorsByToken.delete(e.token);
    a.executors.delete(key(e.frameworkId, e.executorId));
    a.release(e.resources);
    const fw = this.frameworks.get(e.frameworkId);
    if (fw) for (const b of e.resources.values()) addScalars(fw.allocated, b, -1);
    return fw;
  }

  /** Kills the executor; with `report` false its tasks are not transitioned here (the caller does it). */
  private destroyExecutor(a: Agent, e: ExecutorRun, report: boolean): void {
    if (e.state === 'terminated') return;
    if (!report) this.releaseExecutor(a, e);
    e.handle?.kill();
  }

  // ---- KILL / SHUTDOWN -------------------------------------------------------------------------------------------

  private kill(fw: Framework, taskId: string, agentId: string | undefined): void {
    const t = fw.tasks.get(taskId);
    if (!t) {
      // master.cpp kill(): an unknown task is answered by reconciliation.
      this.reconcile(fw, [{ task_id: id(taskId), agent_id: agentId ? id(agentId) : undefined }]);
      return;
    }
    const a = this.agents.get(t.agentId);
    if (!a || !a.reachable || isTerminal(t.state)) return;
    t.killRequested = true;
    const e = a.executors.get(key(fw.id, t.executorId));
    if (!e || !t.delivered) return;
    const queuedIdx = e.queued.findIndex((q) => q.tasks.some((x) => x.task_id.value === taskId));
    if (e.state !== 'subscribed' || queuedIdx >= 0) {
      if (queuedIdx >= 0) {
        const q = e.queued[queuedIdx];
        // Killing one task of a queued group kills the whole group (slave.cpp killTask).
        e.queued.splice(queuedIdx, 1);
        for (const x of q.tasks)
          this.agentStatusUpdate(a, fw.id, {
            task_id: x.task_id,
            state: 'TASK_KILLED',
            source: 'SOURCE_AGENT',
            reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
            message: 'Killed before delivery to the executor',
            executor_id: id(e.executorId),
            agent_id: id(a.id),
          });
      }
      return;
    }
    if (e.kind === 'command' && this.commandProcesses.has(e)) {
      if (fw.capabilities.has('TASK_KILLING_STATE'))
        this.agentStatusUpdate(a, fw.id, { task_id: t.info.task_id, state: 'TASK_KILLING', source: 'SOURCE_EXECUTOR', executor_id: id(e.executorId), agent_id: id(a.id) });
      e.handle?.kill();
      return;
    }
    if (e.kind === 'command') {
      const states: TaskState[] = fw.capabilities.has('TASK_KILLING_STATE') ? ['TASK_KILLING', 'TASK_KILLED'] : ['TASK_KILLED'];
      for (const state of states)
        this.agentStatusUpdate(a, fw.id, { task_id: t.info.task_id, state, source: 'SOURCE_EXECUTOR', executor_id: id(e.executorId), agent_id: id(a.id) });
      this.clock.after(0, () => this.executorExited(a, e, { code: 0 }));
      return;
    }
    e.sink?.send({ type: 'KILL', kill: { task_id: t.info.task_id } });
  }

  private shutdownExecutor(fw: Framework, agentId: string, executorId: string): void {
    const a = this.agents.get(agentId);
    const e = a?.executors.get(key(fw.id, executorId));
    if (!a || !e || !a.reachable) return;
    e.shutdownRequested = true;
    if (e.sink) e.sink.send({ type: 'SHUTDOWN' });
    // The agent kills an executor that has not exited after the shutdown grace period (5 s).
    this.clock.after(e.sink ? SHUTDOWN_GRACE_MS : 0, () => e.handle?.kill());
  }

  // ---- status updates --------------------------------------------------------------------------------------------

  /** The agent's status update manager takes an update: it gets a uuid, is queued per task and forwarded in order. */
  private agentStatusUpdate(a: Agent, frameworkId: string, status: TaskStatus): void {
    const full: TaskStatus = { ...status, uuid: status.uuid ?? randomBytes(16), timestamp: status.timestamp ?? this.clock.now() / 1000 };
    const k = key(frameworkId, status.task_id.value);
    const t = a.tasks.get(k);
    if (t) {
      t.state = full.state;
      t.lastStatus = full;
      if (isTerminal(full.state)) this.releaseTask(a, t);
    }
    let s = a.streams.get(k);
    if (!s) a.streams.set(k, (s = { frameworkId, taskId: status.task_id.value, pending: [], inflight: false, retryMs: this.opts.statusUpdateRetryMs }));
    s.pending.push(full);
    if (!s.inflight) this.forwardHead(a, s);
  }

  private forwardHead(a: Agent, s: UpdateStream): void {
    const head = s.pending[0];
    if (!head) return;
    s.inflight = true;
    s.retryTimer?.cancel();
    s.retryTimer = this.clock.after(s.retryMs, () => {
      s.retryMs = Math.min(s.retryMs * 2, MAX_STATUS_RETRY_MS);
      this.forwardHead(a, s);
    });
    if (!a.reachable || !a.hostUp) return;
    const fw = this.frameworks.get(s.frameworkId);
    if (!fw?.sink) return;
    fw.sink.send({ type: 'UPDATE', update: { status: head } });
    this.stats.updatesForwarded++;
  }

  private acknowledge(fw: Framework, agentId: string, taskId: string, uuid: Uint8Array): void {
    const a = this.agents.get(agentId);
    if (!a || !a.reachable) return;
    const k = key(fw.id, taskId);
    const s = a.streams.get(k);
    const head = s?.pending[0];
    if (!s || !head || hex(head.uuid) !== hex(uuid)) return; // duplicate or stale acknowledgement: ignored as the agent does
    s.pending.shift();
    s.retryTimer?.cancel();
    s.retryMs = this.opts.statusUpdateRetryMs;
    s.inflight = false;
    const t = a.tasks.get(k);
    if (isTerminal(head.state)) {
      a.streams.delete(k);
      if (t) this.forgetTask(t);
      return;
    }
    if (s.pending.length) this.forwardHead(a, s);
  }

  private releaseTask(a: Agent, t: Task): void {
    if (!t.holdsResources) return;
    t.holdsResources = false;
    a.release(t.resources);
    this.resizeContainer(a, t.frameworkId, t.executorId);
    const fw = this.frameworks.get(t.frameworkId);
    if (fw) for (const b of t.resources.values()) addScalars(fw.allocated, b, -1);
    this.scheduleAllocation();
  }

  private forgetTask(t: Task): void {
    const a = this.agents.get(t.agentId);
    a?.tasks.delete(key(t.frameworkId, t.info.task_id.value));
    const fw = this.frameworks.get(t.frameworkId);
    if (fw && fw.tasks.get(t.info.task_id.value) === t) {
      fw.tasks.delete(t.info.task_id.value);
      fw.completed.push(t);
      if (fw.completed.length > MAX_COMPLETED_TASKS) fw.completed.shift();
    }
  }

  private sendMasterUpdate(fw: Framework, status: TaskStatus): void {
    fw.sink?.send({ type: 'UPDATE', update: { status } });
  }

  private masterStatus(t: Task, state: TaskState, reason: TaskStatusReason, message: string): TaskStatus {
    return {
      task_id: t.info.task_id,
      agent_id: id(t.agentId),
      executor_id: t.info.executor ? id(t.executorId) : undefined,
      state,
      source: 'SOURCE_MASTER',
      reason,
      message,
      timestamp: this.clock.now() / 1000,
    };
  }

  // ---- reconciliation --------------------------------------------------------------------------------------------

  /** Explicit (tasks given) or implicit (empty) reconciliation; answers carry REASON_RECONCILIATION and no uuid. */
  private reconcile(fw: Framework, tasks: { task_id: { value: string }; agent_id?: { value: string } }[]): void {
    const pa = fw.capabilities.has('PARTITION_AWARE');
    const now = this.clock.now() / 1000;
    const send = (status: TaskStatus) => this.sendMasterUpdate(fw, { ...status, source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION', timestamp: now });
    const known = (t: Task) => {
      const st = t.state === 'TASK_UNREACHABLE' && !pa ? 'TASK_LOST' : t.state;
      send({
        ...(t.lastStatus ?? {}),
        task_id: t.info.task_id,
        agent_id: id(t.agentId),
        ...(t.info.executor ? { executor_id: id(t.executorId) } : {}),
        state: st,
        uuid: undefined,
        ...(t.unreachableSince !== undefined ? { unreachable_time: { nanoseconds: t.unreachableSince * 1e6 } } : {}),
      });
    };
    if (!tasks.length) {
      for (const t of fw.tasks.values()) known(t);
      return;
    }
    for (const q of tasks) {
      const t = fw.tasks.get(q.task_id.value);
      if (t) {
        known(t);
        continue;
      }
      const agentId = q.agent_id?.value;
      const a = agentId ? this.agents.get(agentId) : undefined;
      const base = { task_id: q.task_id, ...(agentId ? { agent_id: id(agentId) } : {}) };
      if (a && (a.state === 'active' || a.state === 'disconnected'))
        send({ ...base, state: pa ? 'TASK_GONE' : 'TASK_LOST', message: 'Reconciliation: Task is unknown to the agent' });
      else if (a && a.state === 'unreachable')
        send({
          ...base,
          state: pa ? 'TASK_UNREACHABLE' : 'TASK_LOST',
          message: 'Reconciliation: Task is unreachable',
          unreachable_time: { nanoseconds: (a.unreachableSince ?? 0) * 1e6 },
        });
      else if (a && a.state === 'gone') send({ ...base, state: pa ? 'TASK_GONE_BY_OPERATOR' : 'TASK_LOST', message: 'Reconciliation: Task is gone' });
      else send({ ...base, state: pa ? 'TASK_UNKNOWN' : 'TASK_LOST', message: 'Reconciliation: Task is unknown' });
    }
  }

  // ---- fault injection -------------------------------------------------------------------------------------------

  private agentOrThrow(agentId: string): Agent | undefined {
    return this.agents.get(agentId);
  }

  /** The agent's host dies: executors die with it, the master sees the connection drop and, after the timeout, marks it unreachable. */
  failAgent(agentId: string): boolean {
    const a = this.agentOrThrow(agentId);
    if (!a || a.state === 'gone') return false;
    if (!a.hostUp) return true;
    a.hostUp = false;
    a.reachable = false;
    for (const e of [...a.executors.values()]) e.handle?.kill();
    for (const s of a.streams.values()) s.retryTimer?.cancel();
    a.streams.clear();
    if (a.state === 'active') {
      a.state = 'disconnected';
      this.rescindAgentOffers(a);
      this.startUnreachableTimer(a);
    }
    this.log.info({ agent: a.id }, 'agent failed');
    return true;
  }

  /** The agent is cut off from the master but keeps running its tasks; the master notices only at the ping timeout. */
  partitionAgent(agentId: string): boolean {
    const a = this.agentOrThrow(agentId);
    if (!a || a.state === 'gone') return false;
    if (!a.reachable) return true;
    a.reachable = false;
    if (a.state === 'active') this.startUnreachableTimer(a);
    this.log.info({ agent: a.id }, 'agent partitioned');
    return true;
  }

  private startUnreachableTimer(a: Agent): void {
    a.unreachableTimer?.cancel();
    a.unreachableTimer = this.clock.after(this.opts.agentUnreachableTimeoutMs, () => this.markUnreachable(a));
  }

  private rescindAgentOffers(a: Agent): void {
    for (const o of [...this.offers.values()]) if (o.agentId === a.id) this.removeOffer(o.id, true);
    this.maintenance.agentGone(a.id);
  }

  private markUnreachable(a: Agent): void {
    if (a.state === 'unreachable' || a.state === 'gone' || a.reachable) return;
    a.state = 'unreachable';
    const now = this.clock.now();
    a.unreachableSince = now;
    this.rescindAgentOffers(a);
    this.log.info({ agent: a.id }, 'agent marked unreachable');
    for (const t of a.tasks.values()) {
      if (isTerminal(t.state)) continue;
      t.state = 'TASK_UNREACHABLE';
      t.unreachableSince = now;
      const fw = this.frameworks.get(t.frameworkId);
      if (!fw) continue;
      const pa = fw.capabilities.has('PARTITION_AWARE');
      this.sendMasterUpdate(fw, {
        ...this.masterStatus(t, pa ? 'TASK_UNREACHABLE' : 'TASK_LOST', 'REASON_AGENT_REMOVED', `Agent ${a.hostname} is unreachable`),
        unreachable_time: { nanoseconds: now * 1e6 },
      });
    }
    for (const fw of this.frameworks.values()) fw.sink?.send({ type: 'FAILURE', failure: { agent_id: id(a.id) } });
  }

  /** Brings a failed or partitioned agent back; it re-registers with the master. */
  recoverAgent(agentId: string): boolean {
    const a = this.agentOrThrow(agentId);
    if (!a || a.state === 'gone') return false;
    a.unreachableTimer?.cancel();
    const rebooted = !a.hostUp;
    a.hostUp = true;
    a.reachable = true;
    a.state = 'active';
    a.unreachableSince = undefined;
    const now = this.clock.now();
    a.registeredAt = now;
    for (const t of [...a.tasks.values()]) {
      const fw = this.frameworks.get(t.frameworkId);
      const pa = fw?.capabilities.has('PARTITION_AWARE') ?? false;
      if (rebooted || !t.delivered) {
        // The agent comes back without the task (host rebooted, or the launch never reached it).
        t.state = pa ? 'TASK_GONE' : 'TASK_LOST';
        this.releaseTask(a, t);
        if (fw)
          this.sendMasterUpdate(fw, this.masterStatus(t, t.state, rebooted ? 'REASON_AGENT_RESTARTED' : 'REASON_RECONCILIATION', 'Task is unknown to the agent'));
        this.forgetTask(t);
        continue;
      }
      t.unreachableSince = undefined;
      if (t.state === 'TASK_UNREACHABLE') t.state = t.lastStatus?.state ?? 'TASK_STAGING';
    }
    if (rebooted) {
      a.available.clear();
      for (const [r, b] of a.total) a.available.set(r, b.clone());
      for (const t of a.tasks.values()) if (t.holdsResources) a.take(t.resources);
    }
    // Held status updates flow again.
    for (const s of a.streams.values()) this.forwardHead(a, s);
    // Executors whose launch never reached the partitioned agent do not exist there.
    for (const e of [...a.executors.values()]) if (!e.handle && e.state === 'launching') this.destroyExecutor(a, e, false);
    this.log.info({ agent: a.id, rebooted }, 'agent recovered');
    this.scheduleAllocation();
    return true;
  }

  /** The operator asserts the agent is gone for good (markAgentGone): its tasks become TASK_GONE_BY_OPERATOR. */
  markAgentGone(agentId: string): boolean {
    const a = this.agentOrThrow(agentId);
    if (!a) return false;
    if (a.state === 'gone') return true;
    a.unreachableTimer?.cancel();
    this.rescindAgentOffers(a);
    a.hostUp = false;
    a.reachable = false;
    for (const e of [...a.executors.values()]) this.destroyExecutor(a, e, false);
    for (const t of [...a.tasks.values()]) {
      const fw = this.frameworks.get(t.frameworkId);
      if (!isTerminal(t.state)) {
        const pa = fw?.capabilities.has('PARTITION_AWARE') ?? false;
        t.state = pa ? 'TASK_GONE_BY_OPERATOR' : 'TASK_LOST';
        if (fw) this.sendMasterUpdate(fw, this.masterStatus(t, t.state, 'REASON_AGENT_REMOVED', 'Agent marked gone by the operator'));
      }
      this.releaseTask(a, t);
      this.forgetTask(t);
    }
    for (const s of a.streams.values()) s.retryTimer?.cancel();
    a.streams.clear();
    a.state = 'gone';
    for (const fw of this.frameworks.values()) fw.sink?.send({ type: 'FAILURE', failure: { agent_id: id(a.id) } });
    return true;
  }

  agentsInZone(zone: string): Agent[] {
    return [...this.agents.values()].filter((a) => a.zone === zone);
  }

  /**
   * A leader election: every subscription stream drops, offers and filters are forgotten, and the frameworks must
   * re-subscribe (their failover timers run meanwhile). Agents and their tasks carry over, as they re-register.
   */
  failoverLeader(): void {
    this.masterId = randomUUID();
    this.electedTime = this.clock.now();
    for (const o of [...this.offers.keys()]) this.removeOffer(o, false);
    this.maintenance.leaderFailover();
    for (const fw of this.frameworks.values()) {
      fw.filters.clear();
      fw.suppressed.clear();
      const sink = fw.sink;
      if (sink) {
        this.deactivate(fw);
        sink.close();
      }
    }
    this.log.info({ master: this.masterId }, 'leader failover');
  }

  // ---- /state ----------------------------------------------------------------------------------------------------

  /** A subset of the real master's /state JSON: what a person debugging looks at. */
  state(): Record<string, unknown> {
    const taskJson = (t: Task) => {
      const res = new ResourceBag();
      for (const b of t.resources.values()) res.add(b);
      return {
        id: t.info.task_id.value,
        name: t.info.name,
        framework_id: t.frameworkId,
        executor_id: t.info.executor ? t.executorId : '',
        slave_id: t.agentId,
        agent_id: t.agentId,
        state: t.state,
        role: t.role,
        resources: res.toJSON(),
        statuses: t.lastStatus ? [{ state: t.lastStatus.state, timestamp: t.lastStatus.timestamp, reason: t.lastStatus.reason, message: t.lastStatus.message }] : [],
      };
    };
    const { hostname, ip, port } = this.address;
    const unreachable = [...this.agents.values()].filter((a) => a.state === 'unreachable');
    return {
      version: this.opts.version ?? '1.11.0',
      id: this.masterId,
      pid: `master@${ip}:${port}`,
      hostname,
      start_time: this.startTime / 1000,
      elected_time: this.electedTime / 1000,
      activated_slaves: [...this.agents.values()].filter((a) => a.state === 'active').length,
      deactivated_slaves: [...this.agents.values()].filter((a) => a.state === 'disconnected').length,
      unreachable_slaves: unreachable.length,
      leader: `master@${ip}:${port}`,
      leader_info: this.masterInfo(),
      slaves: [...this.agents.values()]
        .filter((a) => a.state !== 'gone')
        .map((a) => ({
          id: a.id,
          hostname: a.hostname,
          port: this.agentEndpoint.port,
          pid: `slave(1)@${this.agentAddress()}`,
          active: a.state === 'active',
          state: a.state,
          reachable: a.reachable,
          host_up: a.hostUp,
          registered_time: a.registeredAt / 1000,
          ...(a.zone ? { domain: { fault_domain: { region: { name: a.region ?? 'default' }, zone: { name: a.zone } } } } : {}),
          resources: a.totalBag().toJSON(),
          used_resources: a.usedBag().toJSON(),
          offered_resources: this.offeredOn(a).toJSON(),
          attributes: Object.fromEntries(a.attributes.map((x) => [x.name, x.text?.value ?? x.scalar?.value ?? x.set?.item ?? x.ranges?.range])),
          executors: [...a.executors.values()].map((e) => ({
            id: e.executorId,
            framework_id: e.frameworkId,
            container: e.containerId,
            directory: e.directory,
            state: e.state,
            kind: e.kind,
            tasks: [...a.tasks.values()].filter((t) => t.frameworkId === e.frameworkId && t.executorId === e.executorId).map((t) => t.info.task_id.value),
          })),
        })),
      frameworks: [...this.frameworks.values()].map((f) => ({
        id: f.id,
        name: f.info.name,
        user: f.info.user,
        principal: f.info.principal,
        roles: f.roles,
        suppressed_roles: [...f.suppressed],
        capabilities: [...f.capabilities],
        failover_timeout: f.info.failover_timeout ?? 0,
        checkpoint: f.info.checkpoint ?? false,
        active: !!f.sink,
        connected: !!f.sink,
        registered_time: f.registeredTime / 1000,
        reregistered_time: f.reregisteredTime !== undefined ? f.reregisteredTime / 1000 : undefined,
        unregistered_time: f.unregisteredTime !== undefined ? f.unregisteredTime / 1000 : undefined,
        offers: [...f.offers].map((oid) => {
          const o = this.offers.get(oid)!;
          const b = new ResourceBag();
          for (const p of o.parts.values()) b.add(p);
          return { id: oid, slave_id: o.agentId, role: o.role, resources: b.toJSON() };
        }),
        tasks: [...f.tasks.values()].filter((t) => t.state !== 'TASK_UNREACHABLE').map(taskJson),
        unreachable_tasks: [...f.tasks.values()].filter((t) => t.state === 'TASK_UNREACHABLE').map(taskJson),
        completed_tasks: f.completed.slice(-100).map(taskJson),
      })),
      completed_frameworks: [...this.removedFrameworks.values()].map((f) => ({ id: f.id, name: f.info.name })),
      unregistered_frameworks: [],
    };
  }

  private offeredOn(a: Agent): ResourceBag {
    const b = new ResourceBag();
    for (const o of this.offers.values()) if (o.agentId === a.id) for (const p of o.parts.values()) b.add(p);
    return b;
  }
}

// ---- helpers -------------------------------------------------------------------------------------------------------

function defaultClusterId(now: number): string {
  const d = new Date(now);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(3).toString('hex')}`;
}

function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((n) => !(n >= 0 && n <= 255))) return 0;
  // Mesos stores MasterInfo.ip in network byte order read as a little-endian uint32.
  return ((p[3] << 24) >>> 0) + (p[2] << 16) + (p[1] << 8) + p[0];
}

function rolesOf(info: FrameworkInfo): string[] {
  if ((info.capabilities ?? []).some((c) => c.type === 'MULTI_ROLE')) return info.roles?.length ? [...info.roles] : ['*'];
  return [info.role ?? '*'];
}

function capsOf(info: FrameworkInfo): Set<string> {
  return new Set((info.capabilities ?? []).map((c) => c.type ?? 'UNKNOWN'));
}

function rolesArg(x: { role?: string; roles?: string[] } | undefined): string[] | undefined {
  if (!x) return undefined;
  if (x.roles?.length) return x.roles;
  if (x.role) return [x.role];
  return undefined;
}

const ROLE_RE = /^[^\s/\\.-][^\s\\]*$/;

function validRole(r: string): string | undefined {
  if (r === '*') return undefined;
  if (!r || r === '.' || r === '..') return `Role '${r}' cannot be '', '.' or '..'`;
  if (!ROLE_RE.test(r) || r.split('/').some((p) => p === '' || p === '.' || p === '..' || p === '*'))
    return `Role '${r}' is not a valid role name`;
  return undefined;
}

/** validation.cpp framework::validate: roles consistent with MULTI_ROLE and well-formed. */
export function validateFrameworkInfo(info: FrameworkInfo): string | undefined {
  if (!info || typeof info.user !== 'string' || typeof info.name !== 'string') return "FrameworkInfo must have 'user' and 'name'";
  const multi = (info.capabilities ?? []).some((c) => c.type === 'MULTI_ROLE');
  if (multi && info.role !== undefined && info.role !== '*' && info.roles?.length)
    return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
  if (!multi && info.roles?.length) return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
  for (const r of multi ? (info.roles ?? []) : [info.role ?? '*']) {
    const err = validRole(r);
    if (err) return `'FrameworkInfo.roles' contains invalid role: ${err}`;
  }
  if (multi && new Set(info.roles ?? []).size !== (info.roles ?? []).length) return "'FrameworkInfo.roles' contains duplicate items";
  return undefined;
}

function refuseOf(seconds: number | undefined): number {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return DEFAULT_REFUSE_SECONDS;
  return Math.min(seconds, 365 * 24 * 3600);
}

function launchedTasks(ops: OfferOperation[]): TaskInfo[] {
  const out: TaskInfo[] = [];
  for (const op of ops) {
    if (op.type === 'LAUNCH') out.push(...(op.launch?.task_infos ?? []));
    if (op.type === 'LAUNCH_GROUP') out.push(...(op.launch_group?.task_group?.tasks ?? []));
  }
  return out;
}

/** Adds (sign 1) or removes (-1) the scalars of `b` to `into`, without allocating. */
function addScalars(into: ResourceBag, b: ResourceBag, sign: 1 | -1): void {
  for (const [k, v] of b.scalars) {
    const next = Math.round(((into.scalars.get(k) ?? 0) + sign * v) * 1000) / 1000;
    if (next > 0) into.scalars.set(k, next);
    else into.scalars.delete(k);
  }
}

function safeDiv(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

function mergeInto(into: Map<string, ResourceBag>, from: Map<string, ResourceBag>): void {
  for (const [k, b] of from) {
    const cur = into.get(k);
    if (cur) cur.add(b);
    else into.set(k, b.clone());
  }
}

function exitStatusCode(s: ExitStatus): number {
  if (s.code !== null && s.code !== undefined) return s.code << 8; // a wait(2) status, as Mesos reports it
  return 9; // killed by SIGKILL
}

/** Deterministic JSON for comparing ExecutorInfos. */
function canonical(v: unknown): string {
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
