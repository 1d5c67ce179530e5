/** Small read-only views of a V1Pod the core needs in several places. Pure. */
import type { V1Pod } from '@kubernetes/client-node';
import { podFromV1 } from '../placement/pod.js';
import type { PlacedPod } from '../placement/types.js';

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

export function placedPod(pod: V1Pod, hostPorts: number[]): PlacedPod {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  return {
    uid: pod.metadata!.uid!,
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    labels: pod.metadata?.labels ?? {},
    ownerUid: owner?.uid,
    hostPorts,
    affinity: pod.spec?.affinity,
  };
}
