/**
 * Carries out failover each scheduling cycle: the replacements `FailoverManager` says are due (delete an owned pod for
 * its controller, re-create a bare one), a reconciliation of lost agents' tasks now and then (to notice their return),
 * and, after a failed zone recovers (failover.rebalance), a few evictions per round toward the recovered zone
 * (`planRebalance`). The framework core drives it through `FailoverDeps`; this module imports nothing of the scheduler.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { FailoverAction, FailoverManager } from './manager.js';
import { planRebalance, type RebalancePod } from './rebalance.js';

export interface FailoverDeps {
  manager: FailoverManager;
  /** failover.rebalance: after a failed zone recovers, move pods back gradually. */
  rebalance: boolean;
  /** While agents are lost, their tasks are reconciled this often. */
  lostAgentReconcileMs: number;
  /** Id and zone of every agent heard of. */
  agents(): { id: string; zone: string }[];
  /** Every task: which pod, on which agent. */
  tasks(): Iterable<{ taskId: string; podUid: string; agentId: string }>;
  tasksOn(agentId: string): { taskId: string }[];
  taskForPod(podUid: string): { taskId: string } | undefined;
  /** Forget the task of a replaced pod for good: if its agent comes back, the task is an orphan and gets killed. */
  forgetReplaced(taskId: string, nowMs: number): void;
  pod(uid: string): V1Pod | undefined;
  /** Pods waiting to be placed: rebalancing waits while there are any. */
  pendingPods(): number;
  /** Every task known, and how many adopted ones still await their first update (failover holds until 0). */
  taskCounts?(): { total: number; awaitingReconciliation: number };
  kube: {
    deletePod(pod: V1Pod, gracePeriodSeconds: number): Promise<void>;
    recreatePod(pod: V1Pod): Promise<void>;
    evictPod(pod: V1Pod): Promise<unknown>;
    reportAwaitingGone?(pod: V1Pod, message: string): Promise<void>;
  };
  mesos: { reconcile(tasks: { taskId: string; agentId?: string }[]): Promise<void> };
  send(p: Promise<unknown>, what: string): void;
  note(type: 'Normal' | 'Warning', reason: string, object: string, message: string): void;
  log: { warn(obj: object, msg: string): void };
  metrics?: { podReplaced?(reason: string): void; failoverHeld?(reason: string, pods: number): void };
}

/** Rebalancing runs this long after a zone recovers, one round of evictions every REBALANCE_ROUND_MS. */
const REBALANCE_WINDOW_MS = 10 * 60_000;
const REBALANCE_ROUND_MS = 10_000;
/** A failed failover write is tried again after 1 s, doubling up to a minute, until it succeeds or is obsolete. */
export const WRITE_RETRY_INITIAL_MS = 1000;
export const WRITE_RETRY_MAX_MS = 60_000;

interface PendingWrite {
  action: FailoverAction;
  attempts: number;
  nextMs: number;
  inflight: boolean;
}

export class FailoverApplier {
  private lastUnhealthyZones = new Set<string>();
  private rebalanceUntilMs = 0;
  private lastRebalanceMs = -Infinity;
  private lastLostReconcileMs = 0;
  /** Failover writes not yet known to have succeeded, by pod uid. */
  private readonly writes = new Map<string, PendingWrite>();
  /** Pods told (condition + event) that they wait for their task to be gone. */
  private readonly toldAwaiting = new Set<string>();

  constructor(private readonly deps: FailoverDeps) {}

  /** Failover's part of a cycle; returns the zones placement must leave alone. */
  run(now: number): Set<string> {
    const unhealthy = this.replace(now);
    this.rebalance(now, unhealthy);
    return unhealthy;
  }

  /** When failover wants a cycle without other input: a replacement due, a rebalance round, a lost-agent reconcile. */
  nextDueMs(now: number): number | undefined {
    const d = this.deps;
    const due = [
      d.manager.nextDueMs(),
      d.rebalance && now < this.rebalanceUntilMs ? Math.max(now, this.lastRebalanceMs + REBALANCE_ROUND_MS) : undefined,
      d.manager.lostAgentIds().length > 0 ? this.lastLostReconcileMs + d.lostAgentReconcileMs : undefined,
      ...[...this.writes.values()].filter((w) => !w.inflight).map((w) => w.nextMs),
    ].filter((x): x is number => x !== undefined);
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /** Writes still being tried (failover deletes and re-creations), for the debug view and tests. */
  pendingWrites(): number {
    return this.writes.size;
  }

  private replace(now: number): Set<string> {
    const d = this.deps;
    const tick = d.manager.tick(d.agents(), now, d.taskCounts?.());
    d.metrics?.failoverHeld?.('safety-stop', tick.heldForSafety);
    for (const action of tick.replace) {
      const rec = d.taskForPod(action.lost.uid);
      if (rec) d.forgetReplaced(rec.taskId, now);
      const how = action.kind === 'recreate' ? 're-created elsewhere' : action.graceSeconds === 0 ? 'its task is gone: deleted for its controller to re-create' : `unreachable: deleted gracefully (${action.graceSeconds}s) for its controller to re-create; the old task is killed if its agent returns`;
      d.note('Warning', 'Replaced', action.lost.key, `agent ${action.lost.agentId} lost: ${how}`);
      d.log.warn({ pod: action.lost.key, agentId: action.lost.agentId, kind: action.kind, graceSeconds: action.graceSeconds }, 'replacing a pod of a lost agent');
      d.metrics?.podReplaced?.(action.lost.gone ? 'gone' : 'agent-lost');
      this.writes.set(action.lost.uid, { action, attempts: 0, nextMs: now, inflight: false });
    }
    this.tryWrites(now);
    const waiting = new Set<string>();
    for (const h of tick.held) {
      if (h.reason !== 'awaiting-gone') continue;
      waiting.add(h.uid);
      const pod = d.pod(h.uid);
      if (this.toldAwaiting.has(h.uid) || !pod || !d.kube.reportAwaitingGone) continue;
      this.toldAwaiting.add(h.uid);
      const message = `its task is unreachable and ${h.why ?? 'it must not run twice'}: it is replaced only once Mesos reports the task gone (TASK_GONE, TASK_GONE_BY_OPERATOR, agent removed)`;
      d.note('Warning', 'WaitingForTaskGone', h.key, message);
      d.send(d.kube.reportAwaitingGone(pod, message), 'failover awaiting-gone condition');
    }
    for (const uid of this.toldAwaiting) if (!waiting.has(uid)) this.toldAwaiting.delete(uid);
    const lost = d.manager.lostAgentIds();
    if (lost.length > 0 && now - this.lastLostReconcileMs >= d.lostAgentReconcileMs) {
      this.lastLostReconcileMs = now;
      const tasks = lost.flatMap((agentId) => d.tasksOn(agentId).map((t) => ({ taskId: t.taskId, agentId })));
      if (tasks.length > 0) d.send(d.mesos.reconcile(tasks), 'reconcile lost agents');
    }
    return tick.health.unhealthyZones;
  }

  /** Sends each due write; a failure schedules the next attempt with backoff; a write whose pod is gone is dropped. */
  private tryWrites(now: number): void {
    const d = this.deps;
    for (const [uid, w] of this.writes) {
      if (w.inflight || w.nextMs > now) continue;
      // Obsolete: the informer no longer shows the pod (deleted), or a graceful delete already shows its deletion.
      const pod = d.pod(uid);
      const obsolete = w.attempts > 0 && (!pod || (w.action.kind === 'delete' && w.action.graceSeconds > 0 && pod.metadata?.deletionTimestamp !== undefined));
      if (obsolete) {
        this.writes.delete(uid);
        continue;
      }
      w.inflight = true;
      w.attempts++;
      const a = w.action;
      const call = a.kind === 'delete' ? d.kube.deletePod(a.pod, a.graceSeconds) : d.kube.recreatePod(a.pod);
      d.send(
        call.then(
          () => this.writes.delete(uid),
          (err: unknown) => {
            w.inflight = false;
            w.nextMs = now + Math.min(WRITE_RETRY_MAX_MS, WRITE_RETRY_INITIAL_MS * 2 ** (w.attempts - 1));
            d.log.warn({ err, pod: a.lost.key, attempt: w.attempts, retryInMs: w.nextMs - now }, `failover ${a.kind} failed: retrying`);
          },
        ),
        `failover ${a.kind}`,
      );
    }
  }

  /** After a zone recovers (failover.rebalance), evict a few pods per round from the fullest zones of their spread. */
  private rebalance(now: number, unhealthyZones: ReadonlySet<string>): void {
    const d = this.deps;
    const recovered = [...this.lastUnhealthyZones].filter((z) => !unhealthyZones.has(z));
    this.lastUnhealthyZones = new Set(unhealthyZones);
    if (!d.rebalance) return;
    if (recovered.length > 0) {
      this.rebalanceUntilMs = now + REBALANCE_WINDOW_MS;
      d.note('Normal', 'Rebalancing', recovered.join(','), `zone(s) ${recovered.join(', ')} recovered: moving pods back for ${REBALANCE_WINDOW_MS / 60_000} min`);
    }
    if (now >= this.rebalanceUntilMs || now - this.lastRebalanceMs < REBALANCE_ROUND_MS || d.pendingPods() > 0) return;
    this.lastRebalanceMs = now;
    const agents = d.agents();
    const zoneOf = new Map(agents.map((a) => [a.id, a.zone]));
    const zones = new Set<string>();
    for (const a of agents) if (a.zone && !unhealthyZones.has(a.zone) && !d.manager.isAgentLost(a.id)) zones.add(a.zone);
    const candidates: RebalancePod[] = [];
    for (const t of d.tasks()) {
      const pod = d.pod(t.podUid);
      const zone = zoneOf.get(t.agentId);
      const owner = pod?.metadata?.ownerReferences?.find((o) => o.controller);
      const spread = pod?.spec?.topologySpreadConstraints?.find((c) => c.topologyKey === 'topology.kubernetes.io/zone');
      if (!pod || !zone || !owner || !spread || pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) continue;
      candidates.push({ key: t.podUid, group: owner.uid, zone, maxSkew: spread.maxSkew });
    }
    for (const uid of planRebalance(candidates, [...zones])) {
      const pod = d.pod(uid)!;
      d.note('Normal', 'Rebalance', `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`, 'evicted so its controller re-creates it in the recovered zone');
      d.send(d.kube.evictPod(pod), 'rebalance eviction');
    }
  }
}
