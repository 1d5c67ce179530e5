/** Small read-only views of a V1Pod the core needs in several places. Pure. */
import type { V1Pod } from '@kubernetes/client-node';
import { podFromV1 } from '../placement/pod.js';
import type { PlacedPod, Res } from '../placement/types.js';

export function podKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

export function isFinished(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function hostPortsOf(pod: V1Pod): number[] {
  const out: number[] = [];
  for (const c of pod.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.hostPort) out.push(p.hostPort);
  return out;
}

/** A bound pod's requests in Mesos units, for an adopted task's bookkeeping (no defaults: what the spec says). */
export function requestsOf(pod: V1Pod): { cpus: number; mem: number; disk: number } {
  const view = podFromV1(pod, { cpus: 0, mem: 0, roles: ['*'] });
  return view.ok ? { ...view.pod.requests } : { cpus: 0, mem: 0, disk: 0 };
}

// Informer objects are replaced, never changed: one parse per pod version.
const parsed = new WeakMap<V1Pod, { requests: Res; extended?: Record<string, number> }>();

function resourcesOf(pod: V1Pod): { requests: Res; extended?: Record<string, number> } {
  let r = parsed.get(pod);
  if (!r) {
    const view = podFromV1(pod, { cpus: 0, mem: 0, roles: ['*'] });
    r = view.ok ? { requests: view.pod.requests, extended: view.pod.extended } : { requests: { cpus: 0, mem: 0, disk: 0 } };
    parsed.set(pod, r);
  }
  return r;
}

/**
 * A pod on an agent as placement sees it. `task`: its task's resources and role, when kube-mesos launched it (else the
 * pod's requests). Priority, start time and termination are for preemption; extended requests for Node-advertised resources.
 */
export function placedPod(pod: V1Pod, hostPorts: number[], task?: { cpus: number; mem: number; disk: number; role?: string }): PlacedPod {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  const r = resourcesOf(pod);
  const started = pod.status?.startTime as Date | string | undefined;
  return {
    uid: pod.metadata!.uid!,
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    labels: pod.metadata?.labels ?? {},
    ownerUid: owner?.uid,
    hostPorts,
    affinity: pod.spec?.affinity,
    priority: pod.spec?.priority ?? 0,
    requests: task ? { cpus: task.cpus, mem: task.mem, disk: task.disk } : r.requests,
    role: task?.role,
    extended: r.extended,
    startedAtMs: started === undefined ? undefined : new Date(started).getTime(),
    terminating: pod.metadata?.deletionTimestamp !== undefined,
  };
}
