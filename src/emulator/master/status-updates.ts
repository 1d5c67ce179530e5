import { randomBytes } from 'node:crypto';
import { type Agent, key, type Task, type UpdateStream } from '../agent.js';
import type { TaskState, TaskStatus, TaskStatusReason } from '../proto-types.js';
import { charge, type Framework, hex, id, isTerminal, type MasterParts, type MasterState } from './shared.js';

const MAX_STATUS_RETRY_MS = 600_000;
const MAX_COMPLETED_TASKS = 1000;

/** The agents' status update managers (one ordered stream per task, retried until acknowledged), master-generated updates and reconciliation. */
export class StatusUpdates {
  constructor(
    private readonly s: MasterState,
    private readonly p: MasterParts,
  ) {}


  /** The agent's status update manager takes an update: it gets a uuid, is queued per task and forwarded in order. */
  agentStatusUpdate(a: Agent, frameworkId: string, status: TaskStatus): void {
    const full: TaskStatus = { ...status, uuid: status.uuid ?? randomBytes(16), timestamp: status.timestamp ?? this.s.clock.now() / 1000 };
    const k = key(frameworkId, status.task_id.value);
    const t = a.tasks.get(k);
    if (t) {
      t.state = full.state;
      t.lastStatus = full;
      if (isTerminal(full.state)) this.releaseTask(a, t);
    }
    let s = a.streams.get(k);
    if (!s) a.streams.set(k, (s = { frameworkId, taskId: status.task_id.value, pending: [], inflight: false, retryMs: this.s.opts.statusUpdateRetryMs }));
    s.pending.push(full);
    if (!s.inflight) this.forwardHead(a, s);
  }

  forwardHead(a: Agent, s: UpdateStream): void {
    const head = s.pending[0];
    if (!head) return;
    s.inflight = true;
    s.retryTimer?.cancel();
    s.retryTimer = this.s.clock.after(s.retryMs, () => {
      s.retryMs = Math.min(s.retryMs * 2, MAX_STATUS_RETRY_MS);
      this.forwardHead(a, s);
    });
    if (!a.reachable || !a.hostUp) return;
    const fw = this.s.frameworks.get(s.frameworkId);
    if (!fw?.sink) return;
    fw.sink.send({ type: 'UPDATE', update: { status: head } });
    this.s.stats.updatesForwarded++;
    if (this.s.faults.duplicateUpdates) {
      // The same update (same uuid) once more, as when the agent retries before the acknowledgement arrived.
      fw.sink.send({ type: 'UPDATE', update: { status: head } });
      this.s.faults.updatesDuplicated++;
    }
  }

  acknowledge(fw: Framework, agentId: string, taskId: string, uuid: Uint8Array): void {
    const a = this.s.agents.get(agentId);
    if (!a || !a.reachable) return;
    const k = key(fw.id, taskId);
    const s = a.streams.get(k);
    const head = s?.pending[0];
    if (!s || !head || hex(head.uuid) !== hex(uuid)) return; // duplicate or stale acknowledgement: ignored as the agent does
    s.pending.shift();
    s.retryTimer?.cancel();
    s.retryMs = this.s.opts.statusUpdateRetryMs;
    s.inflight = false;
    const t = a.tasks.get(k);
    if (isTerminal(head.state)) {
      a.streams.delete(k);
      if (t) this.forgetTask(t);
      return;
    }
    if (s.pending.length) this.forwardHead(a, s);
  }

  releaseTask(a: Agent, t: Task): void {
    if (!t.holdsResources) return;
    t.holdsResources = false;
    a.release(t.resources);
    this.p.executors.resizeContainer(a, t.frameworkId, t.executorId);
    const fw = this.s.frameworks.get(t.frameworkId);
    // Recovered, not allocated now: the next batch allocation offers them (MESOS-3078).
    if (fw) for (const b of t.resources.values()) charge(fw, t.role, b, -1);
  }

  forgetTask(t: Task): void {
    const a = this.s.agents.get(t.agentId);
    a?.tasks.delete(key(t.frameworkId, t.info.task_id.value));
    const fw = this.s.frameworks.get(t.frameworkId);
    if (fw && fw.tasks.get(t.info.task_id.value) === t) {
      fw.tasks.delete(t.info.task_id.value);
      fw.completed.push(t);
      if (fw.completed.length > MAX_COMPLETED_TASKS) fw.completed.shift();
    }
  }

  sendMasterUpdate(fw: Framework, status: TaskStatus): void {
    fw.sink?.send({ type: 'UPDATE', update: { status } });
  }

  masterStatus(t: Task, state: TaskState, reason: TaskStatusReason, message: string): TaskStatus {
    return {
      task_id: t.info.task_id,
      agent_id: id(t.agentId),
      executor_id: t.info.executor ? id(t.executorId) : undefined,
      state,
      source: 'SOURCE_MASTER',
      reason,
      message,
      timestamp: this.s.clock.now() / 1000,
    };
  }

  // ---- reconciliation --------------------------------------------------------------------------------------------

  /** Explicit (tasks given) or implicit (empty) reconciliation; answers carry REASON_RECONCILIATION and no uuid. */
  reconcile(fw: Framework, tasks: { task_id: { value: string }; agent_id?: { value: string } }[]): void {
    const pa = fw.capabilities.has('PARTITION_AWARE');
    const now = this.s.clock.now() / 1000;
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
      const a = agentId ? this.s.agents.get(agentId) : undefined;
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
}
