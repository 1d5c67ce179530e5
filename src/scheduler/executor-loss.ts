/**
 * Applies executor loss (the policy is failover/executor-loss.ts): a kubelet executor died under its pods. Each bound
 * pod it ran is handed to failover as a lost pod (replaced after its failover-after: owners re-create it, bare pods per
 * reschedule-on-loss), and its Node is deleted once no live pod is bound to it, so the agent's next executor starts
 * from a clean Node. The agent itself is not lost: it keeps being offered and placed on (with a fresh executor).
 */
import type { TaskStatus } from '../mesos/types.js';
import { isExecutorLoss } from '../failover/executor-loss.js';
import type { Effects } from './effects.js';
import { isFinished } from './pods.js';
import type { CoreState } from './state.js';
import type { TaskRecord } from './tasks.js';

/** How often Nodes of dead executors are checked for emptiness while any is pending. */
const SWEEP_INTERVAL_MS = 1000;

export class ExecutorLossHandler {
  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly wake: () => void,
  ) {}

  /** A terminal update for a task: true when it is an executor loss (then handled here), false otherwise. */
  taskEnded(rec: TaskRecord, status: TaskStatus, now: number): boolean {
    if (!isExecutorLoss(status)) return false;
    const s = this.state;
    const node = s.nodeName(rec.agentId) ?? rec.agentId;
    this.fx.note('Warning', 'ExecutorLost', rec.podKey, `kubelet executor ${rec.executorId} on ${node} terminated (${status.reason}): ${status.message ?? ''}`.trim());
    s.executorLoss.executorTerminated({ nodeName: node, agentId: rec.agentId, executorId: rec.executorId, sinceMs: now });
    const pod = s.pods.get(rec.podUid);
    if (pod && rec.bound) {
      const r = s.failover.podLost(pod, rec.agentId, s.zoneOf(rec.agentId), false, now, { dead: true });
      if (!r.ok) this.fx.send(this.fx.kube.reportWarning(pod, 'InvalidAnnotation', r.error), 'invalid failover-after');
    }
    this.wake();
    return true;
  }

  /** Mesos sent FAILURE for the executor: its Node waits for deletion until it is empty. */
  executorGone(agentId: string, executorId: string, nodeName: string, now: number): void {
    this.state.executorLoss.executorTerminated({ nodeName, agentId, executorId, sinceMs: now });
    this.wake();
  }

  /** Deletes the Nodes of dead executors that no live pod is bound to any more. Called every cycle. */
  sweep(): void {
    const s = this.state;
    if (s.executorLoss.debugState().length === 0) return;
    const live = new Map<string, number>();
    for (const p of s.pods.values()) {
      const n = p.spec?.nodeName;
      if (n && !isFinished(p) && !p.metadata?.deletionTimestamp) live.set(n, (live.get(n) ?? 0) + 1);
    }
    const deletable = s.executorLoss.takeDeletable({ livePodsOn: (n) => live.get(n) ?? 0, currentExecutor: (a) => s.tasks.kubelet(a)?.executorId });
    for (const o of deletable) {
      this.fx.note('Normal', 'NodeDeleted', o.nodeName, `kubelet executor ${o.executorId} terminated and no pod is bound to its Node any more`);
      this.fx.send(
        this.fx.kube.deleteNode(o.nodeName).catch((err: unknown) => {
          s.executorLoss.retry(o);
          throw err;
        }),
        `delete Node ${o.nodeName} of a dead executor`,
      );
    }
  }

  /** While Nodes of dead executors wait for their pods to go, the cycle comes back every second to check. */
  nextDueMs(now: number): number | undefined {
    return this.state.executorLoss.debugState().length > 0 ? now + SWEEP_INTERVAL_MS : undefined;
  }
}
