/**
 * Explicit reconciliation as Mesos' docs/reconciliation.md prescribes: after SUBSCRIBED, ask for the state of every
 * task the framework knows; tasks that have not answered are asked again with exponential backoff until each has a
 * state. An assumed task whose first update never comes (the LAUNCH or its update lost) expires into the same loop after
 * `assumeTimeoutMs`. Once after SUBSCRIBED an implicit reconciliation (no task ids) also brings the tasks the framework
 * does not know (warm-pool keepers, launches a previous leader made) so they are adopted rather than left unknown.
 */
import type { Effects } from './effects.js';
import type { CoreState } from './state.js';

export interface ReconcileConfig {
  /** First retry after this long, doubling up to maxMs (Mesos' docs suggest a capped exponential backoff). */
  initialMs: number;
  maxMs: number;
  /** An assumed task with no update for this long is reconciled. */
  assumeTimeoutMs: number;
}

export const DEFAULT_RECONCILE: ReconcileConfig = { initialMs: 1000, maxMs: 60_000, assumeTimeoutMs: 60_000 };

interface Pending {
  agentId: string;
  attempts: number;
  nextMs: number;
}

export class Reconciler {
  /** Tasks whose state the framework is waiting for, by task id. */
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly config: ReconcileConfig = DEFAULT_RECONCILE,
  ) {}

  /** SUBSCRIBED: every known task needs a state again; one implicit reconciliation for the tasks not known. */
  subscribed(now: number): void {
    for (const t of this.state.tasks.all()) this.pending.set(t.taskId, { agentId: t.agentId, attempts: 0, nextMs: now });
    this.fx.send(this.fx.mesos.reconcile([]), 'implicit reconciliation');
    this.run(now);
  }

  /** These tasks' state is in doubt now (an ACCEPT whose answer was lost): ask the master at once, then with backoff. */
  check(tasks: readonly { taskId: string; agentId: string }[], now: number): void {
    for (const t of tasks) this.pending.set(t.taskId, { agentId: t.agentId, attempts: 0, nextMs: now });
    this.run(now);
  }

  /** Any update for the task answers it. */
  answered(taskId: string): void {
    this.pending.delete(taskId);
  }

  waiting(): number {
    return this.pending.size;
  }

  /** Sends RECONCILE for the tasks due (first time or backoff elapsed), and adds assumed tasks that expired. */
  run(now: number): void {
    if (!this.state.subscribed) return;
    for (const t of this.state.tasks.assumed()) {
      if (now - t.lastUpdateMs < this.config.assumeTimeoutMs) break; // oldest first: the rest are younger
      if (!this.pending.has(t.taskId)) {
        this.fx.log.warn({ taskId: t.taskId, pod: t.podKey, agentId: t.agentId }, 'no update for an assumed task: reconciling it');
        this.pending.set(t.taskId, { agentId: t.agentId, attempts: 0, nextMs: now });
      }
    }
    const due: { taskId: string; agentId: string }[] = [];
    for (const [taskId, p] of this.pending) {
      if (!this.state.tasks.get(taskId)) {
        this.pending.delete(taskId);
        continue;
      }
      if (p.nextMs > now) continue;
      due.push({ taskId, agentId: p.agentId });
      p.nextMs = now + Math.min(this.config.maxMs, this.config.initialMs * 2 ** p.attempts);
      p.attempts++;
    }
    if (due.length > 0) this.fx.send(this.fx.mesos.reconcile(due), 'reconcile');
  }

  nextDueMs(): number | undefined {
    let next: number | undefined;
    for (const p of this.pending.values()) next = next === undefined ? p.nextMs : Math.min(next, p.nextMs);
    const oldestAssumed = this.oldestAssumedMs();
    if (oldestAssumed !== undefined) {
      const at = oldestAssumed + this.config.assumeTimeoutMs;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  private oldestAssumedMs(): number | undefined {
    // Oldest first: the first one not being reconciled already is the oldest.
    for (const t of this.state.tasks.assumed()) if (!this.pending.has(t.taskId)) return t.lastUpdateMs;
    return undefined;
  }

  debugState() {
    return { waiting: this.pending.size };
  }
}
