/**
 * Executor loss, the pure part. A kubelet executor that terminates (crash, OOM kill, SIGKILL, an agent restarted
 * without recovery) takes its kubelet with it: the agent ends its tasks TASK_FAILED with an executor reason and Mesos
 * sends FAILURE for the executor. The pods it ran stay bound to a Node no kubelet serves, so they are handled as pods on
 * a lost agent (failover-after, owners replace them, bare pods per reschedule-on-loss), and the Node is deleted once no
 * live pod is bound to it — unless the agent already runs a new executor, whose kubelet owns the Node name again.
 * No I/O, no clock: callers pass time and views in, and apply what comes out.
 */
import type { TaskStatus } from '../mesos/types.js';

/** Reasons the agent gives when the executor (not the task, not the agent) went away. */
const EXECUTOR_REASONS = new Set<string>([
  'REASON_EXECUTOR_TERMINATED',
  'REASON_EXECUTOR_REGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_REREGISTRATION_TIMEOUT',
  'REASON_EXECUTOR_UNREGISTERED',
  'REASON_CONTAINER_LIMITATION',
  'REASON_CONTAINER_LIMITATION_MEMORY',
  'REASON_CONTAINER_LIMITATION_DISK',
  'REASON_CONTAINER_PREEMPTED',
]);

/**
 * Whether a terminal update says the pod's executor died under it (the pod itself did not end): the agent is the
 * source, the state is a failure or loss, and the reason names the executor or its container.
 */
export function isExecutorLoss(s: Pick<TaskStatus, 'state' | 'source' | 'reason'>): boolean {
  if (s.source !== 'SOURCE_AGENT') return false;
  if (s.state !== 'TASK_FAILED' && s.state !== 'TASK_LOST' && s.state !== 'TASK_GONE') return false;
  return s.reason !== undefined && EXECUTOR_REASONS.has(s.reason);
}

export interface OrphanNode {
  nodeName: string;
  agentId: string;
  /** The executor that died. */
  executorId: string;
  sinceMs: number;
}

/** What the tracker needs to know about the world when asked which Nodes can go. */
export interface OrphanView {
  /** Pods bound to the Node that have not finished and are not being deleted. */
  livePodsOn(nodeName: string): number;
  /** The agent's current kubelet executor, if one is running or launching. */
  currentExecutor(agentId: string): string | undefined;
}

export class ExecutorLossTracker {
  private readonly orphans = new Map<string, OrphanNode>();

  /** The executor terminated: its Node is an orphan until it is empty (or a new executor claims it). */
  executorTerminated(o: OrphanNode): void {
    if (!this.orphans.has(o.nodeName)) this.orphans.set(o.nodeName, o);
  }

  /**
   * The Nodes to delete now, removed from tracking. A Node whose agent runs a new executor is dropped without
   * deletion: its new kubelet serves it (and the pods still bound to it are the failover's, not ours).
   */
  takeDeletable(view: OrphanView): OrphanNode[] {
    const out: OrphanNode[] = [];
    for (const [name, o] of this.orphans) {
      const current = view.currentExecutor(o.agentId);
      if (current !== undefined && current !== o.executorId) {
        this.orphans.delete(name);
        continue;
      }
      if (view.livePodsOn(name) > 0) continue;
      this.orphans.delete(name);
      out.push(o);
    }
    return out;
  }

  /** A Node delete failed: track it again so the next sweep retries. */
  retry(o: OrphanNode): void {
    this.executorTerminated(o);
  }

  isOrphan(nodeName: string): boolean {
    return this.orphans.has(nodeName);
  }

  /** Whether the agent's dead executor still has a Node waiting to be deleted: no new executor there until it is. */
  agentWaiting(agentId: string): boolean {
    for (const o of this.orphans.values()) if (o.agentId === agentId) return true;
    return false;
  }

  debugState(): OrphanNode[] {
    return [...this.orphans.values()];
  }
}
