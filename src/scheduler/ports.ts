/**
 * What the framework core needs from the outside world, as small interfaces: the Mesos scheduler client and the
 * Kubernetes writes. The composition root adapts the real clients to these; tests pass fakes that record calls.
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import type { OfferOperation, TaskStatus } from '../mesos/types.js';

export interface MesosPort {
  accept(offerIds: string[], operations: OfferOperation[], refuseSeconds: number): Promise<void>;
  decline(offerIds: string[], refuseSeconds: number): Promise<void>;
  /** Only for updates carrying a uuid; the adapter must not be called otherwise. */
  acknowledge(status: TaskStatus): Promise<void>;
  reconcile(tasks: { taskId: string; agentId?: string }[]): Promise<void>;
  kill(taskId: string, agentId?: string, gracePeriodSeconds?: number): Promise<void>;
  revive(): Promise<void>;
  suppress(): Promise<void>;
  shutdownExecutor(executorId: string, agentId: string): Promise<void>;
  /** Scheduler MESSAGE to one executor (node certificates); optional so fakes without it still type-check. */
  message?(agentId: string, executorId: string, data: Uint8Array): Promise<void>;
  // ---- maintenance: optional so fakes without them still type-check ----
  /** ACCEPT_INVERSE_OFFERS with filters.refuse_seconds. */
  acceptInverseOffers?(inverseOfferIds: string[], refuseSeconds: number): Promise<void>;
  /** DECLINE_INVERSE_OFFERS with filters.refuse_seconds. */
  declineInverseOffers?(inverseOfferIds: string[], refuseSeconds: number): Promise<void>;
}

/**
 * How a Binding ended: `bound`, or `already-bound` (the pod was bound to that Node before, e.g. by its author; the task
 * annotations were refreshed); `rejected` when it never can be (pod gone or replaced, bound elsewhere, being deleted);
 * `failed` when the API refused it (403 without `pods/binding`, retries exhausted); `cancelled` when its signal was
 * aborted (the task ended) before a POST bound the pod.
 */
export type BindOutcome = { kind: 'bound' | 'already-bound' | 'cancelled' } | { kind: 'rejected' | 'failed'; message: string };

/** A kubelet's CSR to submit and approve (src/kube/node-certificates.ts). */
export type NodeCertificateResult = { ok: true; certificatePem: string; csrName: string } | { ok: false; error: string; retryable: boolean };

export interface KubePort {
  /**
   * pods/binding of `pod` (uid as precondition) to `nodeName`, carrying `annotations` (the API server copies a Binding's
   * annotations onto the pod); transient errors are retried inside. An aborted `signal` ends the waits between tries and
   * sends no further POST (one already sent is not cut): `cancelled`. Optional so fakes without it still type-check.
   */
  bindPod?(pod: V1Pod, nodeName: string, annotations: Record<string, string>, signal?: AbortSignal): Promise<BindOutcome>;
  /** Submits, approves and waits for a kubelet client certificate (node identity). */
  issueNodeCertificate?(req: { nodeName: string; csrPem: string; requester: string }): Promise<NodeCertificateResult>;
  /** PodScheduled=False/Unschedulable with the message, and a FailedScheduling event. */
  reportUnschedulable(pod: V1Pod, message: string): Promise<void>;
  /** A `Scheduled` event: "Successfully assigned ns/name to node". */
  reportScheduled(pod: V1Pod, nodeName: string): Promise<void>;
  /** A Warning event on the pod (launch failed, task lost…). */
  reportWarning(pod: V1Pod, reason: string, message: string): Promise<void>;
  /**
   * Failover: the pod waits for its task to be proven gone (StatefulSet member, claim, bare pod): condition
   * `kube-mesos.io/TaskUnreachable` (reason WaitingForTaskGone, the message says why) and a Warning event.
   */
  reportAwaitingGone?(pod: V1Pod, message: string): Promise<void>;
  /** Deletes the pod, guarded by its uid (failover: the pod's grace while its task may run, 0 once it is gone). */
  deletePod(pod: V1Pod, gracePeriodSeconds: number): Promise<void>;
  /** Re-creates a bare pod elsewhere: deletes it, then creates a copy without its binding. */
  recreatePod(pod: V1Pod): Promise<void>;
  /**
   * Evicts a pod through the Eviction API, which honours PodDisruptionBudgets: 'blocked' when a budget refuses it now,
   * 'gone' when the pod no longer exists.
   */
  evictPod(pod: V1Pod): Promise<'evicted' | 'blocked' | 'gone'>;
  /** Marks a kubelet's Node unschedulable (the pool is removing it). */
  cordonNode(nodeName: string): Promise<void>;
  /** Deletes a removed kubelet's Node. */
  deleteNode(nodeName: string): Promise<void>;
  /** Marks a Node schedulable again (its agent's maintenance was called off, a drain abandoned). */
  uncordonNode?(nodeName: string): Promise<void>;
  /** A Warning Event on a Node (e.g. DrainAbandoned). */
  reportNodeWarning?(nodeName: string, reason: string, message: string): Promise<void>;
  /** Fails a pod as a kubelet's admission does (phase Failed, reason OutOfcpu…) with a Warning event. */
  failPod?(pod: V1Pod, reason: string, message: string): Promise<void>;
  /** status.nominatedNodeName (null clears it). */
  setNominatedNode?(pod: V1Pod, nodeName: string | null): Promise<void>;
  /**
   * Deletes a preemption victim gracefully, as kube-scheduler does: a DisruptionTarget condition (reason
   * PreemptionByKubeScheduler) and a `Preempted` event first.
   */
  preemptPod?(pod: V1Pod, message: string): Promise<void>;
  // ---- Mesos volumes (docs/stateful.md) ----
  /**
   * Creates the PersistentVolume of a new Mesos volume, pre-bound to its claim (the PV controller completes the bind, as
   * for an external provisioner's volume), with a `ProvisioningSucceeded` event on the claim; first the claim gets
   * `volume.kubernetes.io/selected-node` as kube-scheduler writes it. An existing PV of that name is success.
   */
  createPersistentVolume?(pv: V1PersistentVolume, claim: V1PersistentVolumeClaim, nodeName: string): Promise<void>;
  /** Deletes a PersistentVolume (uid precondition) whose Mesos volume was destroyed. Gone already is success. */
  deletePersistentVolume?(pv: V1PersistentVolume): Promise<void>;
}

export interface Clock {
  now(): number;
}
