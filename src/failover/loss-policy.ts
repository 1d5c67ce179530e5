/**
 * What a pod's task being lost means for the pod (PARTITION_AWARE done right; shared by issue 16 item 3 and issue 17's
 * StatefulSet-safe failover). Pure: the pod's facts in, a decision out.
 *
 * Mesos tells two kinds of loss apart:
 * - *unreachable* (TASK_UNREACHABLE, TASK_UNKNOWN, TASK_LOST, FAILURE of an agent): the task may still run behind a
 *   partition; it may come back;
 * - *gone* (TASK_GONE, TASK_GONE_BY_OPERATOR, reason REASON_AGENT_REMOVED): the task is known dead.
 *
 * Like Kubernetes' node lifecycle controller, an unreachable pod whose owner tolerates two copies for a while
 * (ReplicaSet, ReplicationController, Job) is deleted *gracefully* after its failover-after: the controller creates a
 * replacement at once, the old object stays Terminating until its kubelet confirms or the task is proven gone.
 * A pod that must never run twice (StatefulSet member, a pod with a claim bound to a volume) and a bare pod wait until
 * the task is gone; they carry the condition `TASK_LOSS_CONDITION` saying why. Nothing is ever force-deleted (grace 0)
 * while its task may still run.
 *
 * API for other owners of loss handling (e.g. executor termination): `classifyLoss(state, reason)` says whether a
 * status proves the task dead; `lossPolicy(pod)` says what the pod tolerates; `deleteGraceSeconds` the grace to use.
 */

/** Owner kinds whose controllers may run a replacement while the old copy is possibly still alive. */
export const TWO_COPIES_TOLERATED = new Set(['ReplicaSet', 'ReplicationController', 'Job']);

/** The condition type set on a pod that waits for its task to be proven gone. */
export const TASK_LOSS_CONDITION = 'kube-mesos.io/TaskUnreachable';

export type LossKind = 'unreachable' | 'gone';

/** What a terminal or partition status says about the task: gone for good, possibly alive, or not a loss at all. */
export function classifyLoss(state: string, reason?: string): LossKind | undefined {
  if (state === 'TASK_GONE' || state === 'TASK_GONE_BY_OPERATOR' || reason === 'REASON_AGENT_REMOVED') return 'gone';
  if (state === 'TASK_UNREACHABLE' || state === 'TASK_UNKNOWN' || state === 'TASK_LOST') return 'unreachable';
  return undefined;
}

export interface LossPodFacts {
  /** Kind of the controller owner, if any. */
  ownerKind: string | undefined;
  /** The pod mounts a persistent volume claim (a Mesos volume or any other storage that must not be shared). */
  hasClaim: boolean;
  /** `kube-mesos.io/reschedule-on-loss: "true"` on a bare pod. */
  rescheduleOnLoss: boolean;
  /** spec.terminationGracePeriodSeconds. */
  terminationGraceSeconds: number | undefined;
}

export type LossPolicy =
  /** Replace after failover-after even if only unreachable: graceful delete, the controller re-creates. */
  | { kind: 'replace-when-unreachable' }
  /** Replace only once the task is gone; until then the pod waits, with the reason. */
  | { kind: 'wait-for-gone'; why: string; replace: 'delete' | 'recreate' | 'none' };

export function lossPolicy(p: LossPodFacts): LossPolicy {
  if (p.hasClaim) return { kind: 'wait-for-gone', why: 'it mounts a persistent volume claim, which two copies must not share', replace: p.ownerKind ? 'delete' : p.rescheduleOnLoss ? 'recreate' : 'none' };
  if (p.ownerKind && TWO_COPIES_TOLERATED.has(p.ownerKind)) return { kind: 'replace-when-unreachable' };
  if (p.ownerKind === 'StatefulSet') return { kind: 'wait-for-gone', why: 'a StatefulSet member must never run twice', replace: 'delete' };
  if (p.ownerKind) return { kind: 'wait-for-gone', why: `its owner (${p.ownerKind}) is not known to tolerate two copies`, replace: 'delete' };
  if (p.rescheduleOnLoss) return { kind: 'wait-for-gone', why: 'a bare pod is re-created only once its task is known dead', replace: 'recreate' };
  return { kind: 'wait-for-gone', why: 'a bare pod without kube-mesos.io/reschedule-on-loss is never replaced', replace: 'none' };
}

/** Kubernetes' default terminationGracePeriodSeconds. */
export const DEFAULT_GRACE_SECONDS = 30;

/**
 * The grace period of a failover delete: 0 only when the task is proven gone (nothing left to stop); otherwise the pod's
 * own grace, at least 1 s, so the object stays Terminating until its kubelet confirms (never a force delete).
 */
export function deleteGraceSeconds(loss: LossKind, terminationGraceSeconds: number | undefined): number {
  if (loss === 'gone') return 0;
  return Math.max(1, terminationGraceSeconds ?? DEFAULT_GRACE_SECONDS);
}
