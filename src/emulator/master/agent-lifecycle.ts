import { Agent, type AgentSpec } from '../agent.js';
import { id, isTerminal, type MasterParts, type MasterState } from './shared.js';

/** Agents registering, failing, partitioned, unreachable, recovering and marked gone. */
export class AgentLifecycle {
  constructor(
    private readonly s: MasterState,
    private readonly p: MasterParts,
  ) {}

  private nextAgent = 0;

  addAgent(spec: AgentSpec): Agent {
    const a = new Agent(`${this.s.clusterId}-S${this.nextAgent++}`, spec, this.s.clock.now());
    this.s.agents.set(a.id, a);
    this.s.log.debug({ agent: a.id, hostname: a.hostname, zone: a.zone }, 'agent registered');
    this.p.allocator.scheduleAllocation([a.id]);
    return a;
  }

  /** Cancels the agents' timers and kills their executors (the master stops). */
  stop(): void {
    for (const a of this.s.agents.values()) {
      a.unreachableTimer?.cancel();
      for (const s of a.streams.values()) s.retryTimer?.cancel();
      for (const e of a.executors.values()) this.p.executors.destroyExecutor(a, e, false);
    }
  }

  get agentCount(): number {
    return this.s.agents.size;
  }

  /** The agent's host dies: executors die with it, the master sees the connection drop and, after the timeout, marks it unreachable. */
  failAgent(agentId: string): boolean {
    const a = this.s.agents.get(agentId);
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
    this.s.log.info({ agent: a.id }, 'agent failed');
    return true;
  }

  /**
   * The agent process restarts while its host stays up (slave.cpp recover, `--recover=reconnect`): every executor's
   * connection drops. Executors of frameworks with checkpointing keep running and re-subscribe, keeping their tasks;
   * those of frameworks without it are shut down with the old agent (slave.cpp finalize), so their tasks fail with
   * REASON_EXECUTOR_TERMINATED and the framework gets FAILURE for them.
   */
  restartAgent(agentId: string): boolean {
    const a = this.s.agents.get(agentId);
    if (!a || a.state === 'gone') return false;
    if (!a.hostUp) return true;
    for (const e of [...a.executors.values()]) {
      if (this.s.frameworks.get(e.frameworkId)?.info.checkpoint === true) this.p.executors.dropExecutorStream(e);
      else e.handle?.kill();
    }
    this.s.log.info({ agent: a.id }, 'agent restarted');
    return true;
  }

  /** The agent is cut off from the master but keeps running its tasks; the master notices only at the ping timeout. */
  partitionAgent(agentId: string): boolean {
    const a = this.s.agents.get(agentId);
    if (!a || a.state === 'gone') return false;
    if (!a.reachable) return true;
    a.reachable = false;
    if (a.state === 'active') this.startUnreachableTimer(a);
    this.s.log.info({ agent: a.id }, 'agent partitioned');
    return true;
  }

  private startUnreachableTimer(a: Agent): void {
    a.unreachableTimer?.cancel();
    a.unreachableTimer = this.s.clock.after(this.s.opts.agentUnreachableTimeoutMs, () => this.markUnreachable(a));
  }

  private rescindAgentOffers(a: Agent): void {
    this.p.allocator.rescindAgentOffers(a);
    this.p.maintenance.agentGone(a.id);
  }

  private markUnreachable(a: Agent): void {
    if (a.state === 'unreachable' || a.state === 'gone' || a.reachable) return;
    a.state = 'unreachable';
    const now = this.s.clock.now();
    a.unreachableSince = now;
    this.rescindAgentOffers(a);
    this.s.log.info({ agent: a.id }, 'agent marked unreachable');
    for (const t of a.tasks.values()) {
      if (isTerminal(t.state)) continue;
      t.state = 'TASK_UNREACHABLE';
      t.unreachableSince = now;
      const fw = this.s.frameworks.get(t.frameworkId);
      if (!fw) continue;
      const pa = fw.capabilities.has('PARTITION_AWARE');
      this.p.updates.sendMasterUpdate(fw, {
        ...this.p.updates.masterStatus(t, pa ? 'TASK_UNREACHABLE' : 'TASK_LOST', 'REASON_AGENT_REMOVED', `Agent ${a.hostname} is unreachable`),
        unreachable_time: { nanoseconds: now * 1e6 },
      });
    }
    for (const fw of this.s.frameworks.values()) fw.sink?.send({ type: 'FAILURE', failure: { agent_id: id(a.id) } });
  }

  /** Brings a failed or partitioned agent back; it re-registers with the master. */
  recoverAgent(agentId: string): boolean {
    const a = this.s.agents.get(agentId);
    if (!a || a.state === 'gone') return false;
    a.unreachableTimer?.cancel();
    const rebooted = !a.hostUp;
    a.hostUp = true;
    a.reachable = true;
    a.state = 'active';
    a.unreachableSince = undefined;
    const now = this.s.clock.now();
    a.registeredAt = now;
    for (const t of [...a.tasks.values()]) {
      const fw = this.s.frameworks.get(t.frameworkId);
      const pa = fw?.capabilities.has('PARTITION_AWARE') ?? false;
      if (rebooted || !t.delivered) {
        // The agent comes back without the task (host rebooted, or the launch never reached it).
        t.state = pa ? 'TASK_GONE' : 'TASK_LOST';
        this.p.updates.releaseTask(a, t);
        if (fw)
          this.p.updates.sendMasterUpdate(fw, this.p.updates.masterStatus(t, t.state, rebooted ? 'REASON_AGENT_RESTARTED' : 'REASON_RECONCILIATION', 'Task is unknown to the agent'));
        this.p.updates.forgetTask(t);
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
    for (const s of a.streams.values()) this.p.updates.forwardHead(a, s);
    // Executors whose launch never reached the partitioned agent do not exist there.
    for (const e of [...a.executors.values()]) if (!e.handle && e.state === 'launching') this.p.executors.destroyExecutor(a, e, false);
    this.s.log.info({ agent: a.id, rebooted }, 'agent recovered');
    this.p.allocator.scheduleAllocation([a.id]);
    return true;
  }

  /** The operator asserts the agent is gone for good (markAgentGone): its tasks become TASK_GONE_BY_OPERATOR. */
  markAgentGone(agentId: string): boolean {
    const a = this.s.agents.get(agentId);
    if (!a) return false;
    if (a.state === 'gone') return true;
    a.unreachableTimer?.cancel();
    this.rescindAgentOffers(a);
    a.hostUp = false;
    a.reachable = false;
    for (const e of [...a.executors.values()]) this.p.executors.destroyExecutor(a, e, false);
    for (const t of [...a.tasks.values()]) {
      const fw = this.s.frameworks.get(t.frameworkId);
      if (!isTerminal(t.state)) {
        const pa = fw?.capabilities.has('PARTITION_AWARE') ?? false;
        t.state = pa ? 'TASK_GONE_BY_OPERATOR' : 'TASK_LOST';
        if (fw) this.p.updates.sendMasterUpdate(fw, this.p.updates.masterStatus(t, t.state, 'REASON_AGENT_REMOVED', 'Agent marked gone by the operator'));
      }
      this.p.updates.releaseTask(a, t);
      this.p.updates.forgetTask(t);
    }
    for (const s of a.streams.values()) s.retryTimer?.cancel();
    a.streams.clear();
    a.state = 'gone';
    for (const fw of this.s.frameworks.values()) fw.sink?.send({ type: 'FAILURE', failure: { agent_id: id(a.id) } });
    return true;
  }

  agentsInZone(zone: string): Agent[] {
    return [...this.s.agents.values()].filter((a) => a.zone === zone);
  }
}
