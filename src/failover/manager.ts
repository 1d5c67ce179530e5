/**
 * Applies the failover policy: tracks lost agents and the pods that ran on them, decides with the pure policy when each
 * is replaced, and hands the replacements to the caller (the framework core deletes or re-creates the pods). No I/O
 * here either: time comes in, actions go out.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATION_RESCHEDULE_ON_LOSS } from '../names.js';
import { lossPolicy } from './loss-policy.js';
import { newPacing, releaseAgent, type PacingState } from './pacing.js';
import {
  failoverAfter,
  newRateLimiter,
  planReplacements,
  zoneHealth,
  type AgentHealthView,
  type FailoverConfig,
  type LostPod,
  type HeldReason,
  type RateLimiterState,
  type Replacement,
  type TaskCounts,
  type ZoneHealth,
} from './policy.js';

interface LostAgent {
  sinceMs: number;
}

/** A replacement to carry out: delete an owned pod (its controller re-creates it) or re-create a bare one. */
export interface FailoverAction {
  kind: Replacement['kind'];
  /** For 'delete': 0 only when the task is proven gone. */
  graceSeconds: number;
  lost: LostPod;
  /** The pod as last seen. */
  pod: V1Pod;
}

export interface FailoverTick {
  replace: FailoverAction[];
  health: ZoneHealth;
  heldForSafety: number;
  /** Pods held back this tick, with why (the applier tells the pods that wait for GONE). */
  held: { key: string; uid: string; reason: HeldReason; why?: string }[];
}

export class FailoverManager {
  private readonly lostAgents = new Map<string, LostAgent>();
  /** podUid → the lost pod (with its object as last seen). */
  private readonly lostPods = new Map<string, { lost: LostPod; pod: V1Pod }>();
  private limiter: RateLimiterState;
  private pacing: PacingState = newPacing();
  private nextDue: number | undefined;
  private lastHealth: ZoneHealth | undefined;

  constructor(
    private readonly config: FailoverConfig,
    nowMs: number,
  ) {
    this.limiter = newRateLimiter(config, nowMs);
  }

  agentLost(agentId: string, nowMs: number): void {
    if (!this.lostAgents.has(agentId)) this.lostAgents.set(agentId, { sinceMs: nowMs });
  }

  /** The agent is back (it offers again, or reconciliation found its tasks running): its pods are fine again. */
  agentBack(agentId: string): boolean {
    if (!this.lostAgents.delete(agentId)) return false;
    this.pacing = releaseAgent(this.pacing, agentId);
    for (const [uid, l] of this.lostPods) if (l.lost.agentId === agentId && !l.lost.gone) this.lostPods.delete(uid);
    return true;
  }

  isAgentLost(agentId: string): boolean {
    return this.lostAgents.has(agentId);
  }

  lostAgentIds(): string[] {
    return [...this.lostAgents.keys()];
  }

  /** A bound pod's task became unreachable, lost or gone. `gone`: the task will never come back (TASK_GONE…). */
  /**
   * `gone`: the task is dead for good, replace at once (TASK_GONE…). `opts.dead`: the task is dead (its executor
   * terminated) but the pod is replaced only after its failover-after; either way nothing can run twice, so the delete
   * is grace 0 and pods that wait for GONE (StatefulSet, claims, bare) may go too.
   */
  podLost(pod: V1Pod, agentId: string, zone: string, gone: boolean, nowMs: number, opts: { dead?: boolean } = {}): { ok: true } | { ok: false; error: string } {
    const uid = pod.metadata?.uid;
    if (!uid) return { ok: true };
    const after = failoverAfter(pod.metadata?.annotations, pod.spec?.tolerations, this.config.defaultFailoverAfterMs);
    const existing = this.lostPods.get(uid);
    const owner = (pod.metadata?.ownerReferences ?? []).find((o) => o.controller);
    const rescheduleOnLoss = pod.metadata?.annotations?.[ANNOTATION_RESCHEDULE_ON_LOSS] === 'true';
    const lost: LostPod = {
      key: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
      uid,
      agentId,
      zone,
      owned: owner !== undefined,
      rescheduleOnLoss,
      policy: lossPolicy({ ownerKind: owner?.kind, hasClaim: (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim), rescheduleOnLoss, terminationGraceSeconds: pod.spec?.terminationGracePeriodSeconds }),
      terminationGraceSeconds: pod.spec?.terminationGracePeriodSeconds,
      failoverAfterMs: after.ok ? after.ms : this.config.defaultFailoverAfterMs,
      lostSinceMs: existing?.lost.lostSinceMs ?? nowMs,
      gone: gone || (existing?.lost.gone ?? false),
      dead: opts.dead || (existing?.lost.dead ?? false),
    };
    this.lostPods.set(uid, { lost, pod });
    return after.ok ? { ok: true } : { ok: false, error: after.error };
  }

  /** The pod's task is fine again (RUNNING after UNREACHABLE), or the pod is gone: stop tracking it. */
  podBack(uid: string): void {
    this.lostPods.delete(uid);
  }

  lostPodUids(): string[] {
    return [...this.lostPods.keys()];
  }

  lostPodCount(): number {
    return this.lostPods.size;
  }

  /** Zone health over the given agents (every agent known, with its zone). */
  health(agents: Iterable<{ id: string; zone: string }>): ZoneHealth {
    const views: AgentHealthView[] = [];
    for (const a of agents) views.push({ id: a.id, zone: a.zone, health: this.lostAgents.has(a.id) ? 'lost' : 'active', sinceMs: this.lostAgents.get(a.id)?.sinceMs });
    this.lastHealth = zoneHealth(views, this.config);
    return this.lastHealth;
  }

  /** Decides which lost pods to replace now. Replaced pods are no longer tracked. */
  tick(agents: Iterable<{ id: string; zone: string }>, nowMs: number, tasks?: Omit<TaskCounts, 'lost'>): FailoverTick {
    const health = this.health(agents);
    const counts = tasks ? { ...tasks, lost: [...this.lostPods.values()].filter((l) => !l.lost.dead).length } : undefined;
    const plan = planReplacements([...this.lostPods.values()].map((l) => l.lost), health, this.limiter, this.config, nowMs, { tasks: counts, pacing: this.pacing });
    this.limiter = plan.limiter;
    this.pacing = plan.pacing;
    this.nextDue = plan.nextDueMs;
    const replace: FailoverAction[] = [];
    for (const r of plan.replace) {
      const entry = this.lostPods.get(r.pod.uid);
      this.lostPods.delete(r.pod.uid);
      if (entry) replace.push({ kind: r.kind, graceSeconds: r.kind === 'delete' ? r.graceSeconds : 0, lost: r.pod, pod: entry.pod });
    }
    const uidOf = new Map([...this.lostPods.values()].map((l) => [l.lost.key, l.lost.uid]));
    const held = plan.held.map((h) => ({ ...h, uid: uidOf.get(h.key) ?? '' }));
    return { replace, health, heldForSafety: plan.held.filter((h) => h.reason === 'safety-stop').length, held };
  }

  nextDueMs(): number | undefined {
    return this.nextDue;
  }

  debugState() {
    return {
      lostAgents: [...this.lostAgents.entries()].map(([id, a]) => ({ id, sinceMs: a.sinceMs })),
      lostPods: [...this.lostPods.values()].map((l) => ({ ...l.lost })),
      unhealthyZones: [...(this.lastHealth?.unhealthyZones ?? [])],
      cutOff: this.lastHealth?.cutOff ?? false,
    };
  }
}
