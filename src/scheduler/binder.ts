/**
 * The Binding, written by the scheduler once a pod's task reached its agent (the executor's first TASK_STARTING, or a
 * RUNNING first seen after a restart): executors run with node identities (`system:node:<name>`), which may not create
 * `pods/binding`. Exactly one Binding per task: a task whose Binding is in flight or done is not bound again. The Binding
 * carries the task annotations, so the pod names its task, agent and executor from the moment it is bound.
 *
 * A Binding that can never succeed (pod gone or replaced, bound elsewhere, being deleted) or that the API refuses kills
 * the task: its TASK_KILLED arrives before any binding, so the pod goes back to the queue (mesos-events.ts).
 *
 * A task that ends while its Binding waits (in the client queue, a Retry-After, the backoff) cancels it (`taskEnded`): no further POST, and
 * the pod, re-queued by its task's end, is placed again. A POST already sent is not cut: if it bound the pod, the pod
 * is bound without a task (`boundWithoutTask`).
 */
import { ANNOTATION_AGENT_ID, ANNOTATION_EXECUTOR_ID, ANNOTATION_TASK_ID } from '../names.js';
import type { Effects } from './effects.js';
import type { BindOutcome } from './ports.js';
import { podKey } from './pods.js';
import type { CoreState } from './state.js';
import type { TaskRecord } from './tasks.js';

export class TaskBinder {
  /** Tasks whose Binding is in flight → its cancellation. */
  private readonly inflight = new Map<string, AbortController>();
  /** agentId → tasks that reached it but wait for its node name. */
  private readonly awaitingAgent = new Map<string, Set<string>>();

  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly wake: () => void,
  ) {}

  /** Binds the task's pod to its agent's Node unless that is done or under way. Keeper tasks have no pod. */
  taskStarted(rec: TaskRecord): void {
    if (rec.bound || this.inflight.has(rec.taskId) || rec.podUid.startsWith('keeper:')) return;
    const s = this.state;
    const bind = this.fx.kube.bindPod?.bind(this.fx.kube);
    const pod = s.pods.get(rec.podUid);
    const nodeName = s.nodeName(rec.agentId);
    if (!bind || !pod) return; // no pod: it was deleted (pod-events.ts kills the task)
    if (!nodeName) {
      // An agent not offered since a restart (all its resources in use) and with no Node yet: bound once it is known.
      const waiting = this.awaitingAgent.get(rec.agentId) ?? new Set<string>();
      if (waiting.size === 0) this.fx.log.info({ taskId: rec.taskId, agentId: rec.agentId }, 'binding waits: the agent\'s node name is not known yet');
      this.awaitingAgent.set(rec.agentId, waiting.add(rec.taskId));
      return;
    }
    const annotations = { [ANNOTATION_TASK_ID]: rec.taskId, [ANNOTATION_AGENT_ID]: rec.agentId, [ANNOTATION_EXECUTOR_ID]: rec.executorId };
    const abort = new AbortController();
    this.inflight.set(rec.taskId, abort);
    const started = this.fx.clock.now();
    this.fx.send(
      bind(pod, nodeName, annotations, abort.signal).then(
        (out) => this.done(rec, nodeName, out, started),
        (err: unknown) => this.done(rec, nodeName, { kind: 'failed', message: String((err as Error)?.message ?? err) }, started),
      ),
      'bind pod',
    );
  }

  /** The task ended or was forgotten: its Binding, if one waits, is cancelled (no further POST). Idempotent. */
  taskEnded(taskId: string, agentId?: string): void {
    this.inflight.get(taskId)?.abort();
    if (agentId) this.awaitingAgent.get(agentId)?.delete(taskId);
  }

  /** The agent's node name became known (an offer, its Node, an adopted kubelet): bind the tasks that waited for it. */
  agentKnown(agentId: string): void {
    const waiting = this.awaitingAgent.get(agentId);
    if (!waiting || !this.state.nodeName(agentId)) return;
    this.awaitingAgent.delete(agentId);
    for (const taskId of waiting) {
      const rec = this.state.tasks.get(taskId);
      if (rec && !rec.bound && (rec.state === 'TASK_STARTING' || rec.state === 'TASK_RUNNING')) this.taskStarted(rec);
    }
  }

  /**
   * A pod bound to a Node where its task no longer runs (it ended while the Binding was in flight, or — bound on the
   * ACCEPT's answer — before it reached its agent): a bound pod cannot be placed again. Unless a newer task of the pod
   * runs on that Node (its own Binding then finds the pod bound there and takes it over), the pod is failed as a kubelet
   * fails a pod it rejects: its controller replaces it.
   */
  boundWithoutTask(rec: TaskRecord, nodeName: string, why: string): void {
    const s = this.state;
    const fx = this.fx;
    const pod = s.pods.get(rec.podUid);
    const message = `${why}; failed so that its controller replaces it`;
    fx.log.warn({ taskId: rec.taskId, pod: rec.podKey, nodeName }, 'pod bound without a task');
    fx.note('Warning', 'BoundWithoutTask', rec.podKey, message);
    const newer = s.tasks.forPod(rec.podUid);
    if (pod && (!newer || s.nodeName(newer.agentId) !== nodeName)) {
      s.queue.delete(rec.podKey);
      if (newer) fx.send(fx.mesos.kill(newer.taskId, newer.agentId), 'kill task of a pod bound elsewhere');
      fx.send(fx.kube.failPod?.(pod, 'BoundWithoutTask', message) ?? fx.kube.reportWarning(pod, 'BoundWithoutTask', message), 'fail pod bound without task');
    }
  }

  /** Tasks with a Binding in flight (debug view and tests). */
  get pending(): number {
    return this.inflight.size;
  }

  private done(rec: TaskRecord, nodeName: string, out: BindOutcome, startedMs: number): void {
    const s = this.state;
    const fx = this.fx;
    this.inflight.delete(rec.taskId);
    const now = fx.clock.now();
    fx.metrics?.binding?.(out.kind, (now - startedMs) / 1000);
    const pod = s.pods.get(rec.podUid);
    const live = s.tasks.get(rec.taskId);
    if (out.kind === 'cancelled') {
      // Its task ended first (mesos-events.ts re-queued the pod): nothing to report, nothing to kill.
      fx.log.info({ taskId: rec.taskId, pod: rec.podKey, nodeName }, 'binding cancelled: its task ended');
      return;
    }
    if (!('message' in out)) {
      if (!live) {
        // The task ended while its Binding was in flight: the pod is bound to a Node where nothing runs it.
        this.boundWithoutTask(rec, nodeName, `bound to ${nodeName} after its task ${rec.taskId} ended`);
        return;
      }
      live.bound = true;
      fx.log.info({ taskId: rec.taskId, pod: rec.podKey, nodeName, result: out.kind }, 'pod bound');
      fx.note('Normal', 'Scheduled', rec.podKey, `assigned to ${nodeName} (task ${rec.taskId})`);
      if (pod) {
        fx.send(fx.kube.reportScheduled(pod, nodeName), 'Scheduled event');
        const created = Date.parse(String(pod.metadata?.creationTimestamp ?? ''));
        if (Number.isFinite(created)) fx.metrics?.podScheduled(Math.max(0, now - created));
      }
      return;
    }
    const message = `Binding rejected: ${out.message}`;
    fx.log.warn({ taskId: rec.taskId, pod: rec.podKey, nodeName, result: out.kind, message: out.message }, 'binding failed: killing the task');
    fx.note('Warning', 'FailedScheduling', pod ? podKey(pod) : rec.podKey, message);
    if (pod) fx.send(fx.kube.reportWarning(pod, 'FailedScheduling', message), 'FailedScheduling event');
    // Its TASK_KILLED comes before any Binding: the pod (if it still waits) goes back to the queue.
    if (live) fx.send(fx.mesos.kill(rec.taskId, rec.agentId), 'kill unbindable task');
    this.wake();
  }
}
