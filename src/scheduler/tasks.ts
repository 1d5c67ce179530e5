import { TERMINAL_TASK_STATES, type TaskState } from '../mesos/types.js';
/**
 * What the framework knows of its tasks and kubelet executors. A launched task starts as *assumed* (its resources
 * counted on the agent, its pod out of the queue) until its first status update confirms it; a launch that fails before
 * the pod is bound is *forgotten* and the pod goes back to the queue. Pure bookkeeping: no I/O, time passed in.
 */
export { TERMINAL_TASK_STATES as TERMINAL_STATES } from '../mesos/types.js';

export function isTerminal(state: string): boolean {
  return TERMINAL_TASK_STATES.has(state as TaskState);
}

export interface TaskRecord {
  taskId: string;
  podKey: string;
  podUid: string;
  agentId: string;
  executorId: string;
  /** 'ASSUMED' until the first update; then the last Mesos TaskState seen. */
  state: string;
  /** The pod is bound to the agent's node (our Binding succeeded, TASK_RUNNING seen, or the pod shows the binding). */
  bound: boolean;
  /** The task reached its agent: its executor reported it (TASK_STARTING, RUNNING, …), not only the master. */
  reached?: boolean;
  launchedAtMs: number;
  lastUpdateMs: number;
  cpus: number;
  mem: number;
  disk: number;
  hostPorts: number[];
}

export interface KubeletRecord {
  agentId: string;
  executorId: string;
  nodeName: string;
  /** 'removing': the pool shut it down (cordoned, executor SHUTDOWN sent); nothing new goes there. */
  state: 'launching' | 'running' | 'draining' | 'removing' | 'gone';
  taskIds: Set<string>;
  /** When the last task left (for the pool's idle timeout); undefined while it has tasks. */
  idleSinceMs: number | undefined;
  launchedAtMs: number;
}

export type UpdateOutcome =
  | { kind: 'unknown-task' } // not ours (orphan) or already forgotten
  | { kind: 'progress'; record: TaskRecord; firstConfirmation: boolean }
  | { kind: 'launch-failed'; record: TaskRecord } // terminal before the pod was bound: re-queue the pod
  | { kind: 'terminal'; record: TaskRecord }; // terminal after binding: the pod's status tells the story

export class TaskRegistry {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly byPod = new Map<string, string>(); // podUid → taskId
  private readonly kubelets = new Map<string, KubeletRecord>(); // agentId → kubelet
  /** Adopted tasks (after a restart) with no update yet: their agents' state is unknown until Mesos answers. */
  private readonly unconfirmed = new Set<string>();
  /** Tasks still ASSUMED (launch sent, no update yet), in launch order: the reconciler's per-cycle look is over these only. */
  private readonly assumedIds = new Set<string>();
  /** Told of every record set and every id removed (the snapshot's per-agent pods, placed-pods.ts). */
  observer: { taskSet(rec: TaskRecord): void; taskDeleted(taskId: string): void } | undefined;

  get taskCount(): number {
    return this.tasks.size;
  }

  /** Records a launch about to be sent (assume). */
  assume(rec: Omit<TaskRecord, 'state' | 'bound' | 'lastUpdateMs'>, nowMs: number): TaskRecord {
    const record: TaskRecord = { ...rec, state: 'ASSUMED', bound: false, lastUpdateMs: nowMs };
    this.tasks.set(rec.taskId, record);
    this.observer?.taskSet(record);
    this.assumedIds.add(rec.taskId);
    this.byPod.set(rec.podUid, rec.taskId);
    const k = this.kubelets.get(rec.agentId);
    if (k && k.executorId === rec.executorId) {
      k.taskIds.add(rec.taskId);
      k.idleSinceMs = undefined;
    }
    return record;
  }

  /**
   * Adopts a task known from elsewhere (pod annotations after a restart, reconciliation). `unconfirmed`: no update has
   * shown it yet (adopted from annotations); it counts in `unconfirmedCount` until its first update.
   */
  adopt(rec: TaskRecord, opts: { unconfirmed?: boolean } = {}): void {
    this.tasks.set(rec.taskId, rec);
    this.observer?.taskSet(rec);
    if (rec.state === 'ASSUMED') this.assumedIds.add(rec.taskId);
    else this.assumedIds.delete(rec.taskId);
    if (opts.unconfirmed) this.unconfirmed.add(rec.taskId);
    this.byPod.set(rec.podUid, rec.taskId);
    const k = this.kubelets.get(rec.agentId);
    if (k && k.executorId === rec.executorId) {
      k.taskIds.add(rec.taskId);
      k.idleSinceMs = undefined;
    }
  }

  /** Forgets a task (launch failed, or it ended). Returns the record if it was known. */
  forget(taskId: string, nowMs: number): TaskRecord | undefined {
    const rec = this.tasks.get(taskId);
    if (!rec) return undefined;
    this.tasks.delete(taskId);
    this.observer?.taskDeleted(taskId);
    this.unconfirmed.delete(taskId);
    this.assumedIds.delete(taskId);
    if (this.byPod.get(rec.podUid) === taskId) this.byPod.delete(rec.podUid);
    const k = this.kubelets.get(rec.agentId);
    if (k && k.taskIds.delete(taskId) && k.taskIds.size === 0) k.idleSinceMs = nowMs;
    return rec;
  }

  get(taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskId);
  }

  forPod(podUid: string): TaskRecord | undefined {
    const id = this.byPod.get(podUid);
    return id === undefined ? undefined : this.tasks.get(id);
  }

  all(): IterableIterator<TaskRecord> {
    return this.tasks.values();
  }

  /**
   * Tasks with no update yet (ASSUMED), oldest launch first: an ASSUMED record's lastUpdateMs is its launch time and
   * launches are assumed in clock order, so callers may stop at the first one young enough.
   */
  *assumed(): IterableIterator<TaskRecord> {
    for (const id of this.assumedIds) {
      const t = this.tasks.get(id);
      if (t && t.state === 'ASSUMED') yield t;
    }
  }

  onAgent(agentId: string): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => t.agentId === agentId);
  }

  /** Applies a status update to the registry and says what it means for the pod. */
  applyUpdate(u: { taskId: string; state: string; agentId?: string }, nowMs: number): UpdateOutcome {
    const rec = this.tasks.get(u.taskId);
    if (!rec) return { kind: 'unknown-task' };
    this.unconfirmed.delete(u.taskId);
    this.assumedIds.delete(u.taskId);
    const firstConfirmation = rec.state === 'ASSUMED';
    rec.state = u.state;
    rec.lastUpdateMs = nowMs;
    // TASK_STARTING: the task reached its agent and the scheduler binds the pod now (binder.ts sets `bound`). The
    // executor reports RUNNING only for a pod it saw bound to its Node.
    if (u.state === 'TASK_RUNNING') rec.bound = true;
    const fromExecutor = u.state === 'TASK_STARTING' || u.state === 'TASK_RUNNING' || u.state === 'TASK_KILLING';
    if (fromExecutor) rec.reached = true;
    if (isTerminal(u.state)) {
      this.forget(u.taskId, nowMs);
      return rec.bound ? { kind: 'terminal', record: rec } : { kind: 'launch-failed', record: rec };
    }
    return { kind: 'progress', record: rec, firstConfirmation };
  }

  /** Adopted tasks still waiting for their first update (failover replaces nothing meanwhile). */
  unconfirmedCount(): number {
    return this.unconfirmed.size;
  }

  markBound(podUid: string): void {
    const rec = this.forPod(podUid);
    if (rec) rec.bound = true;
  }

  // ---- kubelet executors -------------------------------------------------------------------------------------------

  kubelet(agentId: string): KubeletRecord | undefined {
    const k = this.kubelets.get(agentId);
    return k && k.state !== 'gone' ? k : undefined;
  }

  allKubelets(): IterableIterator<KubeletRecord> {
    return this.kubelets.values();
  }

  /** A kubelet executor is being launched with the first pod on this agent. */
  launchKubelet(agentId: string, executorId: string, nodeName: string, nowMs: number): KubeletRecord {
    const k: KubeletRecord = { agentId, executorId, nodeName, state: 'launching', taskIds: new Set(), idleSinceMs: nowMs, launchedAtMs: nowMs };
    this.kubelets.set(agentId, k);
    return k;
  }

  /** The executor is gone (FAILURE, shut down, agent lost): its tasks are not forgotten here, their updates tell. */
  kubeletGone(agentId: string, executorId: string): KubeletRecord | undefined {
    const k = this.kubelets.get(agentId);
    if (!k || k.executorId !== executorId) return undefined;
    k.state = 'gone';
    this.kubelets.delete(agentId);
    return k;
  }

  kubeletRunning(agentId: string, executorId: string): void {
    const k = this.kubelets.get(agentId);
    if (k && k.executorId === executorId && k.state === 'launching') k.state = 'running';
  }

  kubeletDraining(agentId: string): KubeletRecord | undefined {
    const k = this.kubelets.get(agentId);
    if (k) k.state = 'draining';
    return k;
  }

  /** An abandoned drain: the kubelet takes pods again. */
  kubeletUndrain(agentId: string): KubeletRecord | undefined {
    const k = this.kubelets.get(agentId);
    if (!k || k.state !== 'draining') return undefined;
    k.state = 'running';
    return k;
  }

  kubeletRemoving(agentId: string): KubeletRecord | undefined {
    const k = this.kubelets.get(agentId);
    if (k) k.state = 'removing';
    return k;
  }
}
