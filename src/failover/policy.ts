/**
 * Failover policy: which zones are healthy, which pods on lost agents to replace and when, and when to do nothing at all
 * because the framework itself is probably the one cut off. Pure: state and time are passed in.
 */
import { parseDuration } from '../config/duration.js';
import { ANNOTATION_FAILOVER_AFTER } from '../names.js';
import { deleteGraceSeconds, type LossPolicy } from './loss-policy.js';
import { admitAgents, DEFAULT_PACING, newPacing, type PacingConfig, type PacingState } from './pacing.js';

export interface FailoverConfig extends Partial<PacingConfig> {
  /** A zone is unhealthy when at least this fraction of its agents is lost (kube-controller-manager: 0.55). */
  zoneUnhealthyFraction: number;
  /**
   * More than this fraction of all agents, or of all tasks (more than 2 of them), lost at once: assume we are cut off
   * and replace nothing.
   */
  safetyStopFraction: number;
  /** Used when a pod has neither the annotation nor an unreachable toleration with seconds. */
  defaultFailoverAfterMs: number;
  /** Replacement rate limit (token bucket), per minute, and its burst. */
  replacementsPerMinute: number;
  replacementBurst: number;
}

export const DEFAULT_FAILOVER_CONFIG: FailoverConfig = {
  zoneUnhealthyFraction: 0.55,
  safetyStopFraction: 0.7,
  defaultFailoverAfterMs: 5 * 60_000,
  replacementsPerMinute: 600,
  replacementBurst: 100,
};

export type AgentHealth = 'active' | 'unreachable' | 'lost';

export interface AgentHealthView {
  id: string;
  zone: string;
  health: AgentHealth;
  /** When it became unreachable/lost. */
  sinceMs?: number;
}

export interface ZoneHealth {
  zones: Map<string, { agents: number; lost: number; healthy: boolean }>;
  /** Every zone unhealthy, or more than safetyStopFraction of agents lost: replace nothing. */
  cutOff: boolean;
  unhealthyZones: Set<string>;
}

export function zoneHealth(agents: readonly AgentHealthView[], c: FailoverConfig): ZoneHealth {
  const zones = new Map<string, { agents: number; lost: number; healthy: boolean }>();
  let lost = 0;
  for (const a of agents) {
    let z = zones.get(a.zone);
    if (!z) zones.set(a.zone, (z = { agents: 0, lost: 0, healthy: true }));
    z.agents++;
    if (a.health !== 'active') {
      z.lost++;
      lost++;
    }
  }
  const unhealthyZones = new Set<string>();
  for (const [name, z] of zones) {
    z.healthy = z.agents === 0 || z.lost / z.agents < c.zoneUnhealthyFraction;
    if (!z.healthy) unhealthyZones.add(name);
  }
  const allZonesDown = zones.size > 0 && unhealthyZones.size === zones.size;
  const tooMany = agents.length > 0 && lost / agents.length > c.safetyStopFraction;
  return { zones, cutOff: allZonesDown || tooMany, unhealthyZones };
}

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';

export interface TolerationLike {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number | null;
}

/**
 * How long after its agent is lost a pod is replaced: the `kube-mesos.io/failover-after` annotation, else the pod's
 * `node.kubernetes.io/unreachable` NoExecute toleration seconds, else the configured default.
 */
export function failoverAfter(
  annotations: Readonly<Record<string, string>> | undefined,
  tolerations: readonly TolerationLike[] | undefined,
  defaultMs: number,
): { ok: true; ms: number; source: 'annotation' | 'toleration' | 'default' } | { ok: false; error: string } {
  const raw = annotations?.[ANNOTATION_FAILOVER_AFTER];
  if (raw !== undefined) {
    const d = parseDuration(raw);
    if (!d.ok) return { ok: false, error: `invalid annotation ${ANNOTATION_FAILOVER_AFTER}: ${d.error}` };
    return { ok: true, ms: d.ms, source: 'annotation' };
  }
  for (const t of tolerations ?? []) {
    const keyMatches = t.key === TAINT_UNREACHABLE || (t.key === undefined || t.key === '') && t.operator === 'Exists';
    const effectMatches = t.effect === undefined || t.effect === '' || t.effect === 'NoExecute';
    if (keyMatches && effectMatches && typeof t.tolerationSeconds === 'number') {
      return { ok: true, ms: Math.max(0, t.tolerationSeconds) * 1000, source: 'toleration' };
    }
  }
  return { ok: true, ms: defaultMs, source: 'default' };
}

export interface LostPod {
  key: string;
  uid: string;
  agentId: string;
  zone: string;
  /** Has a controller owner (ReplicaSet, StatefulSet, Job…): deleting it makes the controller re-create it. */
  owned: boolean;
  rescheduleOnLoss: boolean;
  failoverAfterMs: number;
  /** When its agent (or task) was lost. */
  lostSinceMs: number;
  /** TASK_GONE / GONE_BY_OPERATOR / agent removed: the task is known dead; replace at once. */
  gone: boolean;
  /**
   * The task is known dead but the pod is still replaced only after its failover-after (an executor that terminated:
   * the agent reported the task ended). Like `gone` for what may be done (grace 0, StatefulSet members may go), not
   * for when.
   */
  dead?: boolean;
  /** What the pod tolerates while its task is only unreachable (loss-policy.ts). Absent: derived from `owned`. */
  policy?: LossPolicy;
  terminationGraceSeconds?: number;
}

/** `graceSeconds` is 0 only for a task proven gone (loss-policy.ts `deleteGraceSeconds`). */
export type Replacement = { kind: 'delete'; pod: LostPod; graceSeconds: number } | { kind: 'recreate'; pod: LostPod };

function policyOf(p: LostPod): LossPolicy {
  if (p.policy) return p.policy;
  if (p.owned) return { kind: 'replace-when-unreachable' };
  return { kind: 'wait-for-gone', why: 'bare pod', replace: p.rescheduleOnLoss ? 'recreate' : 'none' };
}

export interface RateLimiterState {
  tokens: number;
  lastMs: number;
}

export function newRateLimiter(c: FailoverConfig, nowMs: number): RateLimiterState {
  return { tokens: c.replacementBurst, lastMs: nowMs };
}

function refill(s: RateLimiterState, c: FailoverConfig, nowMs: number): RateLimiterState {
  const add = ((nowMs - s.lastMs) / 60_000) * c.replacementsPerMinute;
  return { tokens: Math.min(c.replacementBurst, s.tokens + Math.max(0, add)), lastMs: Math.max(nowMs, s.lastMs) };
}

export type HeldReason = 'safety-stop' | 'rate-limit' | 'not-due' | 'bare-pod' | 'awaiting-gone' | 'pacing' | 'reconciling';

/** Beyond zone health: how many tasks there are and how many are lost, and whether adopted tasks still await an answer. */
export interface TaskCounts {
  total: number;
  lost: number;
  /** Adopted tasks (after a restart) whose state Mesos has not told yet: their agents are unknown, so hold everything. */
  awaitingReconciliation: number;
}

/** More than 2 tasks and more than safetyStopFraction of them lost: we are probably the ones cut off. */
export function taskCutOff(t: TaskCounts, c: FailoverConfig): boolean {
  return t.lost > 2 && t.total > 0 && t.lost / t.total > c.safetyStopFraction;
}

export interface ReplacementPlan {
  replace: Replacement[];
  /** Pods due but held back, with why. */
  held: { key: string; reason: HeldReason; why?: string }[];
  limiter: RateLimiterState;
  pacing: PacingState;
  /** When the next held pod becomes due (to schedule a timer). */
  nextDueMs: number | undefined;
}

export function planReplacements(
  pods: readonly LostPod[],
  health: ZoneHealth,
  limiter: RateLimiterState,
  c: FailoverConfig,
  nowMs: number,
  extra: { tasks?: TaskCounts; pacing?: PacingState } = {},
): ReplacementPlan {
  const held: ReplacementPlan['held'] = [];
  const replace: Replacement[] = [];
  let l = refill(limiter, c, nowMs);
  let nextDueMs: number | undefined;
  const soon = (at: number) => (nextDueMs = nextDueMs === undefined ? at : Math.min(nextDueMs, at));
  const cutOff = health.cutOff || (extra.tasks !== undefined && taskCutOff(extra.tasks, c));
  const reconciling = (extra.tasks?.awaitingReconciliation ?? 0) > 0;
  const sorted = [...pods].sort((a, b) => a.lostSinceMs + a.failoverAfterMs - (b.lostSinceMs + b.failoverAfterMs) || a.key.localeCompare(b.key));
  // First pass: which pods are due and allowed at all; the agents of unreachable ones then go through pacing.
  const due: { p: LostPod; policy: LossPolicy }[] = [];
  for (const p of sorted) {
    const policy = policyOf(p);
    if (policy.kind === 'wait-for-gone' && policy.replace === 'none') {
      held.push({ key: p.key, reason: 'bare-pod', why: policy.why });
      continue;
    }
    if (reconciling) {
      held.push({ key: p.key, reason: 'reconciling' });
      continue;
    }
    // The safety stop guards against losses we may be imagining (cut off ourselves, or a new framework's TASK_GONE); an
    // executor its agent saw terminate is not one.
    if (cutOff && !p.dead) {
      held.push({ key: p.key, reason: 'safety-stop' });
      continue;
    }
    if (policy.kind === 'wait-for-gone' && !p.gone && !p.dead) {
      held.push({ key: p.key, reason: 'awaiting-gone', why: policy.why });
      continue;
    }
    const dueAt = p.gone ? p.lostSinceMs : p.lostSinceMs + p.failoverAfterMs;
    if (dueAt > nowMs) {
      held.push({ key: p.key, reason: 'not-due' });
      soon(dueAt);
      continue;
    }
    due.push({ p, policy });
  }
  const pacingCfg = { ...DEFAULT_PACING, unhealthyZoneThreshold: c.zoneUnhealthyFraction, ...definedOnly(c) };
  const zoneCounts = new Map([...health.zones].map(([z, n]) => [z, { agents: n.agents, lost: n.lost }]));
  // A task proven gone is not paced (Kubernetes' pod GC does not wait for a token either).
  const paced = due.filter((d) => !d.p.gone && !d.p.dead).map((d) => ({ agentId: d.p.agentId, zone: d.p.zone }));
  const admission = admitAgents(paced, zoneCounts, extra.pacing ?? newPacing(), pacingCfg, nowMs);
  if (admission.nextTokenMs !== undefined) soon(admission.nextTokenMs);
  for (const { p, policy } of due) {
    if (!p.gone && !p.dead && !admission.admitted.has(p.agentId)) {
      held.push({ key: p.key, reason: 'pacing' });
      continue;
    }
    if (l.tokens < 1) {
      held.push({ key: p.key, reason: 'rate-limit' });
      soon(nowMs + ((1 - l.tokens) / c.replacementsPerMinute) * 60_000);
      continue;
    }
    l = { ...l, tokens: l.tokens - 1 };
    const recreate = policy.kind === 'wait-for-gone' ? policy.replace === 'recreate' : !p.owned && p.rescheduleOnLoss;
    replace.push(recreate ? { kind: 'recreate', pod: p } : { kind: 'delete', pod: p, graceSeconds: deleteGraceSeconds(p.gone || p.dead ? 'gone' : 'unreachable', p.terminationGraceSeconds) });
  }
  return { replace, held, limiter: l, pacing: admission.state, nextDueMs };
}

function definedOnly(c: FailoverConfig): Partial<PacingConfig> {
  const out: Partial<PacingConfig> = {};
  if (c.nodeEvictionRate !== undefined) out.nodeEvictionRate = c.nodeEvictionRate;
  if (c.secondaryNodeEvictionRate !== undefined) out.secondaryNodeEvictionRate = c.secondaryNodeEvictionRate;
  if (c.largeClusterSizeThreshold !== undefined) out.largeClusterSizeThreshold = c.largeClusterSizeThreshold;
  return out;
}

/**
 * A lost agent came back: its tasks whose pods were replaced meanwhile (pod gone, or the pod now names another task)
 * must be killed, so nothing runs twice.
 */
export function tasksToKillOnReturn(
  tasks: readonly { taskId: string; podUid: string }[],
  currentTaskOfPod: (podUid: string) => string | undefined,
): string[] {
  return tasks.filter((t) => currentTaskOfPod(t.podUid) !== t.taskId).map((t) => t.taskId);
}
