/**
 * The real clients adapted to the core's ports: the Mesos scheduler client to `MesosPort`, the Kubernetes client and
 * event recorder to `KubePort` (HTTP error kinds turned into the outcomes the core expects), prom-client instruments to
 * `FrameworkMetrics`.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { bindPodWithAnnotations } from '../kube/binding.js';
import { rfc3339, type KubeClient } from '../kube/client.js';
import { issueNodeCertificate } from '../kube/node-certificates.js';
import type { EventRecorder } from '../kube/events.js';
import type { SchedulerClient } from '../mesos/scheduler.js';
import type { TaskStatus } from '../mesos/types.js';
import { TASK_LOSS_CONDITION } from '../failover/loss-policy.js';
import { BINDING_ANNOTATIONS } from '../names.js';

/** The claim annotation kube-scheduler's VolumeBinding sets for WaitForFirstConsumer provisioning. */
const ANNOTATION_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
import type { SchedulerMetrics } from '../ops/metrics.js';
import type { Logger } from '../telemetry/log.js';
import type { FrameworkMetrics } from './effects.js';
import type { KubePort, MesosPort } from './ports.js';
import { Backoff, sleep } from '../time/backoff.js';

export function mesosPort(client: SchedulerClient): MesosPort {
  return {
    accept: (offerIds, operations, refuseSeconds) => client.accept(offerIds, operations, { refuse_seconds: refuseSeconds }),
    decline: (offerIds, refuseSeconds) => client.decline(offerIds, { refuse_seconds: refuseSeconds }),
    acknowledge: async (status: TaskStatus) => {
      await client.acknowledge(status);
    },
    reconcile: (tasks) => client.reconcile(tasks),
    kill: (taskId, agentId, grace) => client.kill(taskId, agentId, grace !== undefined ? { grace_period: { nanoseconds: grace * 1e9 } } : undefined),
    revive: () => client.revive(),
    suppress: () => client.suppress(),
    shutdownExecutor: (executorId, agentId) => client.shutdown(executorId, agentId),
    message: (agentId, executorId, data) => client.message(agentId, executorId, data),
    // maintenance
    acceptInverseOffers: (ids, refuseSeconds) => client.acceptInverseOffers(ids, { refuse_seconds: refuseSeconds }),
    declineInverseOffers: (ids, refuseSeconds) => client.declineInverseOffers(ids, { refuse_seconds: refuseSeconds }),
  };
}

export function kubePort(kube: KubeClient, events: EventRecorder, log: Logger): KubePort {
  const ref = (pod: V1Pod) => ({ kind: 'Pod', apiVersion: 'v1', namespace: pod.metadata?.namespace, name: pod.metadata?.name ?? '', uid: pod.metadata?.uid });
  const statusPath = (pod: V1Pod) => `/api/v1/namespaces/${encodeURIComponent(pod.metadata?.namespace ?? 'default')}/pods/${encodeURIComponent(pod.metadata?.name ?? '')}/status`;
  /** The DisruptionTarget condition Kubernetes puts on pods it deletes for its own reasons, and an event saying why. */
  const disruption = async (pod: V1Pod, reason: string, message: string, eventReason: string) => {
    events.event(ref(pod), 'Normal', eventReason, message);
    const cond = { type: 'DisruptionTarget', status: 'True', reason, message, lastTransitionTime: rfc3339(new Date()) };
    const c = await kube.raw('PATCH', statusPath(pod), { body: { status: { conditions: [cond] } }, contentType: 'application/strategic-merge-patch+json' });
    if (!c.ok && c.kind !== 'NotFound') log.warn({ pod: ref(pod).name, kind: c.kind, message: c.message }, 'could not add the DisruptionTarget condition');
  };
  const FAILOVER = 'kube-mesos failover: the pod\'s Mesos agent was lost; it is deleted so that its owner replaces it elsewhere';
  return {
    bindPod: (pod, nodeName, annotations, signal) =>
      bindPodWithAnnotations(kube, { namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '', nodeName, annotations }, { signal }),
    issueNodeCertificate: (req) => issueNodeCertificate(kube, req),
    async reportUnschedulable(pod, message) {
      events.event(ref(pod), 'Warning', 'FailedScheduling', message);
      const r = await kube.setPodScheduledCondition(pod, { status: 'False', reason: 'Unschedulable', message });
      if (!r.ok && r.kind !== 'NotFound') log.warn({ pod: ref(pod).name, kind: r.kind, message: r.message }, 'could not set PodScheduled condition');
    },
    async reportScheduled(pod, nodeName) {
      events.event(ref(pod), 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata?.namespace}/${pod.metadata?.name} to ${nodeName}`);
    },
    async reportWarning(pod, reason, message) {
      events.event(ref(pod), 'Warning', reason, message);
    },
    async reportAwaitingGone(pod, message) {
      events.event(ref(pod), 'Warning', 'WaitingForTaskGone', message);
      const r = await kube.setPodCondition(pod, TASK_LOSS_CONDITION, { status: 'True', reason: 'WaitingForTaskGone', message });
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`set condition ${TASK_LOSS_CONDITION} on ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
    async deletePod(pod, gracePeriodSeconds) {
      await disruption(pod, 'DeletionByKubeMesosFailover', FAILOVER, 'FailoverDeleted');
      const r = await kube.deletePod(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', { gracePeriodSeconds, uid: pod.metadata?.uid });
      if (!r.ok && r.kind !== 'NotFound' && r.kind !== 'Conflict') throw new Error(`delete pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
    async evictPod(pod) {
      const r = await kube.evictPod(pod.metadata?.namespace ?? 'default', pod.metadata?.name ?? '', { uid: pod.metadata?.uid });
      if (r.ok) return 'evicted';
      if (r.kind === 'NotFound' || r.kind === 'Conflict') return 'gone';
      if (r.kind === 'DisruptionBudget') return 'blocked';
      throw new Error(`evict pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
    async cordonNode(name) {
      const r = await kube.cordonNode(name);
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`cordon node ${name}: ${r.kind}: ${r.message}`);
    },
    async deleteNode(name) {
      const r = await kube.deleteNode(name);
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`delete node ${name}: ${r.kind}: ${r.message}`);
    },
    async reportNodeWarning(name, reason, message) {
      events.event({ kind: 'Node', apiVersion: 'v1', name, uid: name }, 'Warning', reason, message);
    },
    // maintenance
    async uncordonNode(name) {
      const r = await kube.cordonNode(name, false);
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`uncordon node ${name}: ${r.kind}: ${r.message}`);
    },
    async failPod(pod, reason, message) {
      events.event(ref(pod), 'Warning', reason, message);
      // Retried while the API server answers 5xx or not at all: nothing else would ever write this status again.
      const backoff = new Backoff({ initialMs: 500, maxMs: 8000 });
      for (let attempt = 1; ; attempt++) {
        const r = await kube.raw('PATCH', statusPath(pod), {
          body: { status: { phase: 'Failed', reason, message } },
          contentType: 'application/strategic-merge-patch+json',
          discardBody: true,
        });
        if (r.ok || r.kind === 'NotFound') return;
        if (r.kind !== 'Retryable' || attempt >= 8) throw new Error(`fail pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
        await sleep(backoff.next());
      }
    },
    async setNominatedNode(pod, nodeName) {
      const r = await kube.raw('PATCH', statusPath(pod), {
        body: { status: { nominatedNodeName: nodeName } },
        contentType: 'application/merge-patch+json',
      });
      if (!r.ok && r.kind !== 'NotFound') throw new Error(`nominate pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
    async preemptPod(pod, message) {
      const ns = pod.metadata?.namespace ?? 'default';
      await disruption(pod, 'PreemptionByKubeScheduler', message, 'Preempted');
      const r = await kube.deletePod(ns, pod.metadata?.name ?? '', { uid: pod.metadata?.uid });
      if (!r.ok && r.kind !== 'NotFound' && r.kind !== 'Conflict') throw new Error(`preempt pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
    async createPersistentVolume(pv, claim, nodeName) {
      const claimRef = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata?.namespace, name: claim.metadata?.name ?? '', uid: claim.metadata?.uid };
      // As kube-scheduler's VolumeBinding: the claim names its node, so the PV controller hands it to its provisioner (us).
      const claimPath = `/api/v1/namespaces/${encodeURIComponent(claim.metadata?.namespace ?? 'default')}/persistentvolumeclaims/${encodeURIComponent(claim.metadata?.name ?? '')}`;
      const sel = await kube.raw('PATCH', claimPath, { body: { metadata: { annotations: { [ANNOTATION_SELECTED_NODE]: nodeName } } }, contentType: 'application/merge-patch+json' });
      if (!sel.ok && sel.kind !== 'NotFound') log.warn({ claim: claimRef.name, kind: sel.kind, message: sel.message }, 'could not annotate the claim with its selected node');
      const r = await kube.raw('POST', '/api/v1/persistentvolumes', { body: pv });
      if (!r.ok && r.kind !== 'AlreadyExists') {
        events.event(claimRef, 'Warning', 'ProvisioningFailed', `failed to create PersistentVolume ${pv.metadata?.name} for its Mesos volume: ${r.kind}: ${r.message}`);
        throw new Error(`create persistentvolume ${pv.metadata?.name}: ${r.kind}: ${r.message}`);
      }
      events.event(claimRef, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pv.metadata?.name} (Mesos volume ${pv.metadata?.annotations?.['kube-mesos.io/persistence-id'] ?? ''} at ${pv.spec?.local?.path ?? ''})`);
    },
    async deletePersistentVolume(pv) {
      const r = await kube.raw('DELETE', `/api/v1/persistentvolumes/${encodeURIComponent(pv.metadata?.name ?? '')}`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: pv.metadata?.uid } } });
      if (!r.ok && r.kind !== 'NotFound' && r.kind !== 'Conflict') throw new Error(`delete persistentvolume ${pv.metadata?.name}: ${r.kind}: ${r.message}`);
    },
    async recreatePod(pod) {
      const ns = pod.metadata?.namespace ?? 'default';
      await disruption(pod, 'DeletionByKubeMesosFailover', `${FAILOVER} (kube-mesos.io/reschedule-on-loss: a copy is created)`, 'FailoverRecreated');
      const del = await kube.deletePod(ns, pod.metadata?.name ?? '', { gracePeriodSeconds: 0, uid: pod.metadata?.uid });
      // Conflict: the uid precondition failed, the name already holds a newer pod (an earlier attempt's copy).
      if (!del.ok && del.kind === 'Conflict') return;
      if (!del.ok && del.kind !== 'NotFound') throw new Error(`delete pod ${ref(pod).name}: ${del.kind}: ${del.message}`);
      const r = await kube.createPod(ns, freshCopy(pod));
      // AlreadyExists: an earlier attempt (or its controller) already made the copy.
      if (!r.ok && r.kind !== 'AlreadyExists') throw new Error(`re-create pod ${ref(pod).name}: ${r.kind}: ${r.message}`);
    },
  };
}

/** A bare pod as the user wrote it: no identity, binding, status or kube-mesos annotations. */
export function freshCopy(pod: V1Pod): V1Pod {
  const annotations = Object.fromEntries(Object.entries(pod.metadata?.annotations ?? {}).filter(([k]) => !BINDING_ANNOTATIONS.includes(k)));
  const { nodeName: _nodeName, ...spec } = pod.spec ?? { containers: [] };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, labels: pod.metadata?.labels, annotations },
    spec: spec as V1Pod['spec'],
  };
}

export function metricsAdapter(m: SchedulerMetrics): FrameworkMetrics {
  return {
    offersReceived: (n) => m.offersReceived.inc(n),
    offersDeclined: (n) => m.offersDeclined.inc(n),
    offersAccepted: (n) => m.offersAccepted.inc(n),
    offersRescinded: (n) => m.offersRescinded.inc(n),
    launches: (n) => m.podLaunches.inc(n),
    taskState: (state) => m.taskUpdates.inc({ state }),
    cycle: (ms, _pods, placed) => {
      m.schedulingCycleDuration.observe(ms / 1000);
      m.podsPlacedPerCycle.observe(placed);
    },
    podScheduled: (ms) => m.podSchedulingLatency.observe(ms / 1000),
    pending: (n) => m.pendingPods.set(n),
    kubeletScaleDown: (reason) => m.kubeletScaleDowns.inc({ reason }),
    kubeletStarted: (seconds) => m.kubeletStartSeconds.observe(seconds),
    kubeletLaunched: () => m.kubeletLaunches.inc(),
    podReplaced: (reason) => m.podReplacements.inc({ reason }),
    failoverHeld: (reason, pods) => m.failoverHeldPods.set({ reason }, pods),
    kubeletLaunchFailed: (reason) => m.kubeletLaunchFailures.inc({ reason }),
    taskReached: (seconds) => m.taskReachedDuration.observe(seconds),
    offerHeld: (seconds) => m.offerHeldDuration.observe(seconds),
    binding: (result, seconds) => {
      m.bindings.inc({ result });
      if (result === 'bound' || result === 'already-bound') m.bindingDuration.observe(seconds);
    },
    nodeCertificate: (result, seconds) => {
      m.nodeCertificates.inc({ result });
      if (result === 'issued') m.nodeCertificateDuration.observe(seconds);
    },
    volumeOperations: (operation, n) => m.volumeOperations.inc({ operation }, n),
  };
}
