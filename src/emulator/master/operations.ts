import { type Agent, type ExecutorRun, key, type Task } from '../agent.js';
import type { SchedulerCallAccept } from '../../mesos/types.js';
import type { ExecutorInfo, OfferOperation, TaskInfo, TaskState, TaskStatusReason } from '../proto-types.js';
import { bagsByRole, ResourceBag } from '../resources.js';
import { refuseOf } from './allocator.js';
import { applyReservationOp } from './reservation-ops.js';
import { recordHold } from './allocator.js';
import { agentWorkDirOf, charge, type Framework, id, type MasterParts, type MasterState, mergeInto } from './shared.js';

/** ACCEPT: the offers and each operation validated as master/validation.cpp does, then applied to the agent. */
export class Operations {
  constructor(
    private readonly s: MasterState,
    private readonly p: MasterParts,
  ) {}

  accept(fw: Framework, accept: SchedulerCallAccept): void {
    const ids = (accept.offer_ids ?? []).map((o) => o.value);
    const ops = accept.operations ?? [];
    const offerError = this.validateOffers(fw, ids);
    if (offerError) {
      // master.cpp accept(): launches with invalid offers are dropped (TASK_LOST for non-partition-aware frameworks).
      for (const oid of ids) if (this.s.offers.get(oid)?.frameworkId === fw.id) this.p.allocator.removeOffer(oid, false);
      const state: TaskState = fw.capabilities.has('PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST';
      for (const t of launchedTasks(ops))
        this.p.updates.sendMasterUpdate(fw, {
          task_id: t.task_id,
          agent_id: t.agent_id,
          state,
          source: 'SOURCE_MASTER',
          reason: 'REASON_INVALID_OFFERS',
          message: `Task launched with invalid offers: ${offerError}`,
          timestamp: this.s.clock.now() / 1000,
        });
      return;
    }
    const records = ids.map((oid) => this.s.offers.get(oid)!);
    const a = this.s.agents.get(records[0].agentId)!;
    const role = records[0].role;
    const remaining = new Map<string, ResourceBag>();
    const now = this.s.clock.now();
    for (const r of records) {
      this.s.offers.delete(r.id);
      r.timer?.cancel();
      fw.offers.delete(r.id);
      recordHold(fw, r, now, 'accepted');
      fw.figures.accepted++;
      for (const [pool, b] of r.parts) {
        const cur = remaining.get(pool);
        if (cur) cur.add(b);
        else remaining.set(pool, b.clone());
      }
    }
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
      } else this.reservationOp(fw, a, role, remaining, op);
    }
    // Unused resources go back with the ACCEPT's filter (refuse_seconds, default 5 s).
    this.releaseUnused(fw, a, role, remaining, refuseOf(accept.filters?.refuse_seconds));
  }

  /**
   * RESERVE/UNRESERVE/CREATE/DESTROY: an invalid one is dropped (logged; OPERATION_ERROR when it has an id, as
   * operation feedback does), a valid one converts the offered resources (OPERATION_FINISHED when it has an id).
   */
  private reservationOp(fw: Framework, a: Agent, role: string, remaining: Map<string, ResourceBag>, op: OfferOperation): void {
    const agentWorkDir = this.s.opts.volumesOnDisk ? agentWorkDirOf(this.s, a) : undefined;
    const error = applyReservationOp({ fw, agent: a, role, remaining, agentWorkDir }, op);
    if (error) this.s.log.warn({ framework: fw.id, agent: a.id, operation: op.type }, `dropping operation: ${error}`);
    this.s.operationLog.push({ frameworkId: fw.id, agentId: a.id, type: op.type ?? 'UNKNOWN', error });
    if (this.s.operationLog.length > 100) this.s.operationLog.shift();
    if (!op.id) return;
    fw.sink?.send({
      type: 'UPDATE_OPERATION_STATUS',
      update_operation_status: { status: { operation_id: op.id, state: error ? 'OPERATION_ERROR' : 'OPERATION_FINISHED', agent_id: id(a.id), ...(error ? { message: error } : {}) } },
    });
  }

  private releaseUnused(fw: Framework, a: Agent, role: string, remaining: Map<string, ResourceBag>, refuseSeconds: number): void {
    a.release(remaining);
    const bag = new ResourceBag();
    for (const b of remaining.values()) bag.add(b);
    charge(fw, role, bag, -1);
    // Recovered, not allocated now: the next batch allocation offers them (MESOS-3078).
    this.p.allocator.addFilter(fw, a.id, role, bag, refuseSeconds);
  }

  private validateOffers(fw: Framework, ids: string[]): string | undefined {
    if (!ids.length) return 'No offers specified';
    const seen = new Set<string>();
    let agent: string | undefined;
    let role: string | undefined;
    for (const oid of ids) {
      if (seen.has(oid)) return `Duplicate offer ${oid} in the same accept`;
      seen.add(oid);
      const o = this.s.offers.get(oid);
      if (!o) return `Offer ${oid} is no longer valid`;
      if (o.frameworkId !== fw.id) return `Offer ${oid} has invalid framework ${o.frameworkId} while framework ${fw.id} is expected`;
      if (agent !== undefined && o.agentId !== agent) return 'Aggregated offers must belong to one single agent';
      if (role !== undefined && o.role !== role) return 'Aggregated offers must be allocated to the same role';
      agent = o.agentId;
      role = o.role;
      if (this.s.agents.get(o.agentId)?.state !== 'active') return `Agent ${o.agentId} is not active`;
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
      if (existing && existing.state !== 'terminated' && executorKey(existing.info) !== executorKey(executor))
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
    if (executor && !this.p.executors.liveExecutor(a, fw.id, executor.executor_id.value)) mergeInto(needs, bagsByRole(executor.resources));
    return needs;
  }

  private groupNeeds(fw: Framework, a: Agent, executor: ExecutorInfo, tasks: TaskInfo[]): Map<string, ResourceBag> {
    const needs = new Map<string, ResourceBag>();
    for (const t of tasks) mergeInto(needs, bagsByRole(t.resources));
    if (!this.p.executors.liveExecutor(a, fw.id, executor.executor_id.value)) mergeInto(needs, bagsByRole(executor.resources));
    return needs;
  }

  private fits(remaining: Map<string, ResourceBag>, needs: Map<string, ResourceBag>): boolean {
    for (const [pool, b] of needs) if (!(remaining.get(pool) ?? new ResourceBag()).contains(b)) return false;
    return true;
  }

  liveExecutor(a: Agent, fid: string, eid: string): ExecutorRun | undefined {
    const e = a.executors.get(key(fid, eid));
    return e && e.state !== 'terminated' ? e : undefined;
  }

  private taskError(fw: Framework, t: TaskInfo, reason: TaskStatusReason, message: string): void {
    this.p.updates.sendMasterUpdate(fw, {
      task_id: t.task_id,
      agent_id: t.agent_id,
      state: 'TASK_ERROR',
      source: 'SOURCE_MASTER',
      reason,
      message,
      timestamp: this.s.clock.now() / 1000,
    });
  }

  /** Accounts the tasks (and a new executor) on the agent and hands them to it. */
  private launch(fw: Framework, a: Agent, role: string, remaining: Map<string, ResourceBag>, executor: ExecutorInfo | undefined, tasks: TaskInfo[], group: boolean): void {
    let e = executor ? this.p.executors.liveExecutor(a, fw.id, executor.executor_id.value) : undefined;
    if (executor && !e) {
      const res = bagsByRole(executor.resources);
      for (const [pool, b] of res) remaining.get(pool)?.subtract(b);
      e = this.p.executors.createExecutor(fw, a, { ...executor, framework_id: id(fw.id) }, res, 'custom', role);
    }
    for (const t of tasks) {
      const res = bagsByRole(t.resources);
      for (const [pool, b] of res) remaining.get(pool)?.subtract(b);
      let te = e;
      if (!te) {
        // Command task: the agent wraps it in its command executor, whose id is the task id.
        const info: ExecutorInfo = { executor_id: id(t.task_id.value), framework_id: id(fw.id), command: t.command, name: `Command Executor (Task: ${t.task_id.value})` };
        te = this.p.executors.createExecutor(fw, a, info, new Map(), 'command', role);
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
      this.s.stats.tasksLaunched++;
      if (!group) this.p.executors.deliverToExecutor(a, te, [task.info], false);
    }
    if (group && e) this.p.executors.deliverToExecutor(a, e, tasks.map((t) => fw.tasks.get(t.task_id.value)!.info), true);
  }
}

function launchedTasks(ops: OfferOperation[]): TaskInfo[] {
  const out: TaskInfo[] = [];
  for (const op of ops) {
    if (op.type === 'LAUNCH') out.push(...(op.launch?.task_infos ?? []));
    if (op.type === 'LAUNCH_GROUP') out.push(...(op.launch_group?.task_group?.tasks ?? []));
  }
  return out;
}

/** An ExecutorInfo's canonical JSON without its framework id, computed once per object (every task of an ACCEPT carries it). */
const executorKeys = new WeakMap<object, string>();
function executorKey(info: ExecutorInfo): string {
  let k = executorKeys.get(info);
  if (k === undefined) executorKeys.set(info, (k = canonical({ ...info, framework_id: undefined })));
  return k;
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
