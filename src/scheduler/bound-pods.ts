/**
 * Pods kube-mesos did not place but that are bound to one of its Nodes — `spec.nodeName` set by their author, a
 * DaemonSet, another scheduler — need their room from Mesos like any pod: each becomes a task on its agent's kubelet
 * executor once the agent's offers hold it (the executor finds the pod already bound and carries on), or, when it can
 * never fit the agent, fails as a kubelet rejects it at admission (OutOf<resource>) with an event.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { fitBoundPod, type AgentCapacity } from '../placement/bound-pod.js';
import { podFromV1 } from '../placement/pod.js';
import { parseQuantity } from '../placement/quantity.js';
import type { AgentView, Placement, PlanConfig, PodDefaults, PodSpecView } from '../placement/types.js';
import type { KubeletCounts } from '../pool/planner.js';
import type { Effects } from './effects.js';
import { isFinished, podKey } from './pods.js';
import type { CoreState } from './state.js';

const TASK_ID_ANNOTATION = 'kube-mesos.io/task-id';

export class BoundPods {
  constructor(
    private readonly state: CoreState,
    private readonly fx: Effects,
    private readonly config: { plan: PlanConfig; podDefaults: PodDefaults },
  ) {}

  /** A bound pod was seen (informer): it waits for a task unless it has one, is done, or is going. True when it newly waits. */
  note(pod: V1Pod): boolean {
    const s = this.state;
    const key = podKey(pod);
    const uid = pod.metadata?.uid;
    const nodeName = pod.spec?.nodeName;
    if (!uid || !nodeName || isFinished(pod) || pod.metadata?.deletionTimestamp || pod.metadata?.annotations?.[TASK_ID_ANNOTATION] || s.tasks.forPod(uid)) {
      s.boundWaiting.delete(key);
      return false;
    }
    if (s.boundWaiting.get(key)?.uid === uid) return false;
    const view = podFromV1(pod, this.config.podDefaults);
    if (!view.ok) {
      this.fx.send(this.fx.kube.reportWarning(pod, 'FailedAdmission', `kube-mesos cannot account this pod on Mesos: ${view.reason}`), 'bound pod warning');
      return false;
    }
    s.boundWaiting.set(key, view.pod);
    return true;
  }

  forget(pod: V1Pod): void {
    this.state.boundWaiting.delete(podKey(pod));
  }

  /**
   * One cycle: at most one waiting pod per agent becomes a placement (the next one sees the offers that are left in the
   * next cycle). Returns the placements to launch; rejected pods are failed here.
   */
  run(views: readonly AgentView[], _counts: KubeletCounts): Placement[] {
    const s = this.state;
    const byId = new Map(views.map((v) => [v.id, v]));
    const used = new Set<string>();
    const out: Placement[] = [];
    for (const [key, view] of s.boundWaiting) {
      const pod = s.pods.get(view.uid);
      const agentId = s.agentByNode.get(view.nodeName ?? '') ?? nodeAgent(s, view.nodeName);
      if (!pod || !agentId || used.has(agentId)) continue;
      if (s.tasks.forPod(view.uid)) {
        s.boundWaiting.delete(key);
        continue;
      }
      const agent = byId.get(agentId);
      if (!agent) continue;
      const fit = fitBoundPod(agent, view, this.config.plan, capacityOf(s, agentId));
      if (fit.kind === 'fits') {
        used.add(agentId);
        out.push({ podKey: key, agentId, role: fit.role, res: fit.res, hostPorts: view.hostPorts.map((h) => h.port), newKubelet: fit.newKubelet, ...(fit.scalars ? { scalars: fit.scalars } : {}) });
      } else if (fit.kind === 'reject') {
        s.boundWaiting.delete(key);
        this.fx.note('Warning', fit.reason, key, fit.message);
        this.fx.send(this.fx.kube.failPod?.(pod, fit.reason, fit.message) ?? this.fx.kube.reportWarning(pod, fit.reason, fit.message), 'reject bound pod');
      }
    }
    return out;
  }

  /** The view the launcher needs for a placement of a bound pod. */
  viewOf(key: string): PodSpecView | undefined {
    return this.state.boundWaiting.get(key);
  }
}

function nodeAgent(s: CoreState, nodeName: string | undefined): string | undefined {
  if (!nodeName) return undefined;
  for (const [id, n] of s.nodes) if (n.metadata?.name === nodeName) return id;
  return undefined;
}

/** The Node's allocatable, when its kubelet reported it: what the agent can ever give. */
function capacityOf(s: CoreState, agentId: string): AgentCapacity | undefined {
  const alloc = s.nodes.get(agentId)?.status?.allocatable as Record<string, string> | undefined;
  if (!alloc?.cpu || !alloc.memory) return undefined;
  const q = (k: string) => parseQuantity(alloc[k]) ?? 0;
  const extended: Record<string, number> = {};
  for (const k of Object.keys(alloc)) if (k.includes('/')) extended[k] = q(k);
  return { cpus: q('cpu'), mem: q('memory') / 2 ** 20, disk: alloc['ephemeral-storage'] ? q('ephemeral-storage') / 2 ** 20 : Infinity, extended };
}
