import { randomUUID } from 'node:crypto';
import { ResourceBag } from '../resources.js';
import type { FrameworkInfo, SchedulerCall } from '../proto-types.js';
import { key } from '../agent.js';
import { type CallResult, type Framework, id, isTerminal, type MasterParts, type MasterState, newOfferFigures, type SchedulerSink } from './shared.js';

const SHUTDOWN_GRACE_MS = 5000; // the agent's --executor_shutdown_grace_period

/** Framework subscriptions (SUBSCRIBE, failover, heartbeats, removal) and the dispatch of scheduler calls. */
export class Frameworks {
  constructor(
    private readonly s: MasterState,
    private readonly p: MasterParts,
  ) {}

  private nextFramework = 0;


  /** SUBSCRIBE: answers on the sink (SUBSCRIBED + HEARTBEAT, or one ERROR and close). */
  subscribe(sink: SchedulerSink, call: SchedulerCall): void {
    if (call.type !== 'SUBSCRIBE') throw new TypeError('subscribe() takes a SUBSCRIBE call');
    const info = call.subscribe.framework_info;
    const invalid = validateFrameworkInfo(info);
    if (invalid) return this.refuse(sink, invalid);
    const requested = info.id?.value;
    if (requested && this.s.removedFrameworks.has(requested)) return this.refuse(sink, 'Framework has been removed');
    const now = this.s.clock.now();
    let fw = requested ? this.s.frameworks.get(requested) : undefined;
    if (!fw) {
      const fid = requested ?? `${this.s.clusterId}-${String(this.nextFramework++).padStart(4, '0')}`;
      fw = {
        id: fid,
        info: { ...info, id: id(fid) },
        roles: rolesOf(info),
        capabilities: capsOf(info),
        suppressed: new Set(),
        filters: new Map(),
        offers: new Set(),
        allocated: new ResourceBag(),
        allocatedByRole: new Map(),
        allocationCount: new Map(),
        figures: newOfferFigures(),
        tasks: new Map(),
        completed: [],
        registeredTime: now,
      };
      this.s.frameworks.set(fid, fw);
      this.adoptTasks(fw);
      this.s.log.info({ framework: fid, name: info.name }, 'framework subscribed');
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
      for (const oid of [...fw.offers]) this.p.allocator.removeOffer(oid, false);
      this.p.maintenance.frameworkGone(fw.id); // inverse offers go with the old subscription
      this.s.log.info({ framework: fw.id }, 'framework re-subscribed');
    }
    fw.suppressed = new Set(call.subscribe.suppressed_roles ?? []);
    fw.sink = sink;
    sink.send({
      type: 'SUBSCRIBED',
      subscribed: { framework_id: id(fw.id), heartbeat_interval_seconds: this.s.opts.heartbeatIntervalMs / 1000, master_info: this.s.masterInfo() },
    });
    this.heartbeat(fw);
    // Updates the agents hold for this framework are resent now rather than at their next retry.
    for (const a of this.s.agents.values()) for (const s of a.streams.values()) if (s.frameworkId === fw.id) this.p.updates.forwardHead(a, s);
    this.p.allocator.scheduleAllocation();
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
      fw.heartbeatTimer = this.s.clock.after(this.s.opts.heartbeatIntervalMs, beat);
    };
    beat();
  }

  /** The HTTP layer reports a subscription stream that ended (client went away). */
  disconnected(sink: SchedulerSink): void {
    for (const fw of this.s.frameworks.values()) {
      if (fw.sink !== sink) continue;
      this.deactivate(fw);
      return;
    }
  }

  private deactivate(fw: Framework): void {
    fw.sink = undefined;
    fw.heartbeatTimer?.cancel();
    fw.unregisteredTime = this.s.clock.now();
    for (const oid of [...fw.offers]) this.p.allocator.removeOffer(oid, true);
    this.p.maintenance.frameworkGone(fw.id);
    const timeoutMs = Math.max(0, (fw.info.failover_timeout ?? 0) * 1000);
    this.s.log.info({ framework: fw.id, failoverTimeoutMs: timeoutMs }, 'framework disconnected');
    fw.failoverTimer?.cancel();
    fw.failoverTimer = this.s.clock.after(timeoutMs, () => {
      if (!fw.sink) this.removeFramework(fw, 'failover timeout');
    });
  }

  /** Checks a non-SUBSCRIBE call the way master/http.cpp does, then dispatches it. */
  call(call: SchedulerCall, streamId: string | undefined): CallResult {
    const fw = this.s.frameworks.get(call.framework_id!.value);
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
        fw.figures.calls.accept++;
        this.p.operations.accept(fw, call.accept!);
        return { status: 202 };
      case 'DECLINE':
        this.p.allocator.decline(fw, (call.decline!.offer_ids ?? []).map((o) => o.value), call.decline!.filters?.refuse_seconds);
        return { status: 202 };
      // ---- maintenance ----
      case 'ACCEPT_INVERSE_OFFERS':
        this.p.maintenance.respond(fw.id, (call.accept_inverse_offers.inverse_offer_ids ?? []).map((o) => o.value), 'ACCEPT', call.accept_inverse_offers.filters);
        return { status: 202 };
      case 'DECLINE_INVERSE_OFFERS':
        this.p.maintenance.respond(fw.id, (call.decline_inverse_offers.inverse_offer_ids ?? []).map((o) => o.value), 'DECLINE', call.decline_inverse_offers.filters);
        return { status: 202 };
      case 'REQUEST':
      case 'ACKNOWLEDGE_OPERATION_STATUS':
        return { status: 202 };
      case 'REVIVE':
        this.p.allocator.revive(fw, rolesArg(call.revive));
        return { status: 202 };
      case 'SUPPRESS':
        this.p.allocator.suppress(fw, rolesArg(call.suppress));
        return { status: 202 };
      case 'KILL':
        this.p.executors.kill(fw, call.kill!.task_id.value, call.kill!.agent_id?.value);
        return { status: 202 };
      case 'SHUTDOWN':
        this.p.executors.shutdownExecutor(fw, call.shutdown!.agent_id.value, call.shutdown!.executor_id.value);
        return { status: 202 };
      case 'ACKNOWLEDGE':
        this.p.updates.acknowledge(fw, call.acknowledge!.agent_id.value, call.acknowledge!.task_id.value, call.acknowledge!.uuid);
        return { status: 202 };
      case 'RECONCILE':
        this.p.updates.reconcile(fw, call.reconcile?.tasks ?? []);
        return { status: 202 };
      case 'MESSAGE': {
        const m = call.message!;
        const e = this.s.agents.get(m.agent_id.value)?.executors.get(key(fw.id, m.executor_id.value));
        if (e?.sink && this.s.agents.get(m.agent_id.value)?.hostUp) e.sink.send({ type: 'MESSAGE', message: { data: m.data } });
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
          const o = this.s.offers.get(oid);
          if (o && !fw.roles.includes(o.role)) this.p.allocator.removeOffer(oid, true);
        }
        this.p.allocator.scheduleAllocation();
        return { status: 200 };
      }
      default:
        return { status: 501, message: `Call type ${call.type} is not implemented` };
    }
  }

  /** The failover timeout of a disconnected framework elapses now (a test's shortcut for a long wait). */
  expireFailover(frameworkId: string): 'expired' | 'not-found' | 'subscribed' {
    const fw = this.s.frameworks.get(frameworkId);
    if (!fw) return 'not-found';
    if (fw.sink) return 'subscribed';
    this.removeFramework(fw, 'failover timeout');
    return 'expired';
  }

  private removeFramework(fw: Framework, why: string): void {
    this.s.log.info({ framework: fw.id, why }, 'framework removed');
    fw.failoverTimer?.cancel();
    fw.heartbeatTimer?.cancel();
    for (const oid of [...fw.offers]) this.p.allocator.removeOffer(oid, false);
    this.p.maintenance.frameworkGone(fw.id);
    const sink = fw.sink;
    fw.sink = undefined;
    sink?.close();
    const now = this.s.clock.now();
    for (const t of [...fw.tasks.values()]) {
      const a = this.s.agents.get(t.agentId);
      if (!isTerminal(t.state)) {
        t.state = 'TASK_KILLED';
        t.lastStatus = { ...this.p.updates.masterStatus(t, 'TASK_KILLED', 'REASON_FRAMEWORK_REMOVED', 'Framework removed'), timestamp: now / 1000 };
      }
      if (a) this.p.updates.releaseTask(a, t);
      this.p.updates.forgetTask(t);
    }
    for (const a of this.s.agents.values()) {
      // The agent shuts the framework's executors down: SHUTDOWN, then a kill after the grace period.
      for (const e of [...a.executors.values()]) {
        if (e.frameworkId !== fw.id) continue;
        e.shutdownRequested = true;
        if (e.sink && a.hostUp) {
          e.sink.send({ type: 'SHUTDOWN' });
          this.s.clock.after(SHUTDOWN_GRACE_MS, () => e.handle?.kill());
        } else if (e.handle) e.handle.kill();
        else this.p.executors.destroyExecutor(a, e, false);
      }
      for (const [k, s] of a.streams) {
        if (s.frameworkId !== fw.id) continue;
        s.retryTimer?.cancel();
        a.streams.delete(k);
      }
    }
    // Its resources are recovered: they go out in the next batch allocation (removeFramework does not allocate).
    this.s.frameworks.delete(fw.id);
    this.s.removedFrameworks.set(fw.id, fw);
  }

  /** After a leader failover a framework re-subscribes with its id: the agents report its tasks back to the master. */
  private adoptTasks(fw: Framework): void {
    for (const a of this.s.agents.values()) for (const t of a.tasks.values()) if (t.frameworkId === fw.id) fw.tasks.set(t.info.task_id.value, t);
  }

  /**
   * A leader election: every subscription stream drops, offers and filters are forgotten, and the frameworks must
   * re-subscribe (their failover timers run meanwhile). Agents and their tasks carry over, as they re-register.
   */
  /** Ends every subscription and cancels the frameworks' timers (the master stops). */
  stop(): void {
    for (const fw of this.s.frameworks.values()) {
      fw.failoverTimer?.cancel();
      fw.heartbeatTimer?.cancel();
      fw.sink?.close();
      fw.sink = undefined;
    }
  }

  failoverLeader(): void {
    this.s.masterId = randomUUID();
    this.s.electedTime = this.s.clock.now();
    for (const o of [...this.s.offers.keys()]) this.p.allocator.removeOffer(o, false);
    this.p.maintenance.leaderFailover();
    for (const fw of this.s.frameworks.values()) {
      fw.filters.clear();
      fw.suppressed.clear();
      const sink = fw.sink;
      if (sink) {
        this.deactivate(fw);
        sink.close();
      }
    }
    this.s.log.info({ master: this.s.masterId }, 'leader failover');
  }
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
