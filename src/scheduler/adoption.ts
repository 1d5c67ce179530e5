/**
 * Whether a task may be adopted for a pod after a restart (pure). Annotations are written by whoever can update the
 * pod, so they are not trusted on their own: the task id must name this very pod (namespace, name and the first 8 hex
 * digits of its uid, as `taskIdFor` builds it), the pod must be bound (a Binding sets spec.nodeName and the task
 * annotations in one write; a pending pod carrying a task id forged it), and when the task's agent is known, the pod
 * must be bound to that agent's Node. Also: which task ids are warm-pool keepers.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { podOfTaskId } from './launch.js';

export type AdoptionCheck = { ok: true } | { ok: false; reason: string };

export function checkAdoption(pod: V1Pod, taskId: string, opts: { agentNodeName?: string; requireBound: boolean }): AdoptionCheck {
  const ref = podOfTaskId(taskId);
  const ns = pod.metadata?.namespace ?? '';
  const name = pod.metadata?.name ?? '';
  const uid = (pod.metadata?.uid ?? '').replace(/-/g, '');
  if (!ref || ref.namespace !== ns || ref.name !== name) return { ok: false, reason: `task ${taskId} does not name pod ${ns}/${name}` };
  if (uid === '' || ref.uidPrefix !== uid.slice(0, 8)) return { ok: false, reason: `task ${taskId} was launched for another pod object than uid ${pod.metadata?.uid ?? '?'}` };
  const nodeName = pod.spec?.nodeName;
  if (opts.requireBound && !nodeName) return { ok: false, reason: `pod ${ns}/${name} names task ${taskId} but is not bound` };
  if (nodeName && opts.agentNodeName !== undefined && nodeName !== opts.agentNodeName) {
    return { ok: false, reason: `pod ${ns}/${name} is bound to ${nodeName}, task ${taskId} runs on the agent of Node ${opts.agentNodeName}` };
  }
  return { ok: true };
}

/** A warm-pool keeper task's id is `kubelet.<agentId>.<base36 time>` (accept.ts `launchWarmKubelet`). */
export function isKeeperTaskOf(taskId: string, agentId: string | undefined): boolean {
  if (!agentId || !taskId.startsWith(`kubelet.${agentId}.`)) return false;
  return /^[0-9a-z]+$/.test(taskId.slice(`kubelet.${agentId}.`.length));
}
