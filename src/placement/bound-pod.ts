// Pods kube-mesos did not place but that are bound to one of its Nodes (spec.nodeName set by the user, a DaemonSet,
// another scheduler): their room must come from Mesos like any pod's, on that very agent. Pure.
import { plan } from './plan.js';
import type { AgentView, PlanConfig, PodSpecView, Res } from './types.js';

export type BoundPodFit =
  /** Launch its task now: from this role, with the kubelet executor when the agent has none yet. */
  | { kind: 'fits'; role: string; res: Res; scalars?: Record<string, number>; newKubelet: boolean }
  /** The offers held for the agent do not hold it now; `missing` in kube's names (cpu, memory, nvidia.com/gpu…). */
  | { kind: 'wait'; missing: string[] }
  /** It can never fit the agent: fail it as a kubelet rejects a pod at admission. */
  | { kind: 'reject'; reason: string; message: string };

/** What the agent can give kube-mesos in all (Node allocatable, or the agent's Mesos resources), when known. */
export interface AgentCapacity {
  cpus: number;
  mem: number;
  disk: number;
  /** Mesos-managed extended resources by Kubernetes name. */
  extended?: Record<string, number>;
}

const ALL_TOLERATED = [{ operator: 'Exists' }];

/**
 * Whether the bound pod's requests fit the agent it is bound to. Only resources count, as at a kubelet's admission:
 * cordon, taints, selectors and spreading are the binder's business, not the Node's. A pod that asks more than the
 * agent's whole capacity is rejected with the kubelet's reason (`OutOfcpu`) and message.
 */
export function fitBoundPod(agent: AgentView, pod: PodSpecView, cfg: PlanConfig, capacity?: AgentCapacity): BoundPodFit {
  const resourcesOnly: PodSpecView = {
    ...pod,
    nodeName: undefined,
    nodeSelector: undefined,
    affinity: undefined,
    tolerations: ALL_TOLERATED,
    topologySpreadConstraints: [],
    constraints: [],
    spread: undefined,
    nominatedNodeName: undefined,
  };
  const r = plan([agent], [resourcesOnly], { ...cfg, percentageOfAgentsToScore: 100 });
  const p = r.placements[0];
  if (p) return { kind: 'fits', role: p.role, res: p.res, newKubelet: p.newKubelet, ...(p.scalars ? { scalars: p.scalars } : {}) };
  if (capacity) {
    const used = usedOn(agent);
    const over = (name: string, requested: number, have: number, unit: number) =>
      requested > have + 1e-6
        ? { kind: 'reject' as const, reason: `OutOf${name}`, message: `Node didn't have enough resource: ${name}, requested: ${Math.round(requested * unit)}, used: ${Math.round(used[name] ?? 0)}, capacity: ${Math.round(have * unit)}` }
        : undefined;
    const rej =
      over('cpu', pod.requests.cpus, capacity.cpus, 1000) ??
      over('memory', pod.requests.mem, capacity.mem, 2 ** 20) ??
      over('ephemeral-storage', pod.requests.disk, capacity.disk, 2 ** 20) ??
      Object.entries(pod.extended ?? {})
        .map(([k, v]) => over(k, v, capacity.extended?.[k] ?? agent.nodeExtended?.[k] ?? 0, 1))
        .find((x) => x !== undefined);
    if (rej) return rej;
  }
  const reasons = Object.keys(r.unschedulable[0]?.reasons ?? {});
  return { kind: 'wait', missing: reasons.filter((x) => x.startsWith('Insufficient ')).map((x) => x.slice('Insufficient '.length)) };
}

/** Requests of the pods already on the agent, in the kubelet's units (millicores, bytes). */
function usedOn(agent: AgentView): Record<string, number> {
  const u: Record<string, number> = { cpu: 0, memory: 0, 'ephemeral-storage': 0 };
  for (const p of agent.pods) {
    if (!p.requests) continue;
    u.cpu += p.requests.cpus * 1000;
    u.memory += p.requests.mem * 2 ** 20;
    u['ephemeral-storage'] += p.requests.disk * 2 ** 20;
    for (const [k, v] of Object.entries(p.extended ?? {})) u[k] = (u[k] ?? 0) + v;
  }
  return u;
}
