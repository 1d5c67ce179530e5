/**
 * Builds the read-only snapshot that placement's plan() sees: every known agent with what its held offers give per role,
 * its kubelet, and the pods on it. Pure: it reads the core's state and changes nothing.
 */
import { reservationRole } from '../mesos/resources.js';
import type { Offer } from '../mesos/types.js';
import type { AgentView, OfferedSlice, PlacedPod, PortRange } from '../placement/types.js';
import { ANNOTATION_AGENT_ID } from '../names.js';
import { canAddKubelet, type KubeletCounts, type PoolConfig } from '../pool/planner.js';
import type { AgentInfo } from './agent-info.js';
import { hostPortsOf, isFinished, placedPod } from './pods.js';
import type { CoreState } from './state.js';

export function offeredSlices(offers: readonly Offer[]): OfferedSlice[] {
  const byRole = new Map<string, OfferedSlice>();
  for (const o of offers) {
    for (const r of o.resources ?? []) {
      if (r.revocable || r.disk?.persistence) continue; // revocable and persistent volumes are not used for pods
      const role = reservationRole(r);
      let s = byRole.get(role);
      if (!s) byRole.set(role, (s = { role, res: { cpus: 0, mem: 0, disk: 0 }, ports: [] }));
      if (r.type === 'SCALAR' && r.scalar) {
        if (r.name === 'cpus') s.res.cpus += r.scalar.value;
        else if (r.name === 'mem') s.res.mem += r.scalar.value;
        else if (r.name === 'disk') s.res.disk += r.scalar.value;
      } else if (r.type === 'RANGES' && r.name === 'ports') {
        for (const range of r.ranges?.range ?? []) s.ports.push([range.begin, range.end] as PortRange);
      }
    }
  }
  for (const s of byRole.values()) s.ports.sort((a, b) => a[0] - b[0]);
  return [...byRole.values()];
}

export interface SnapshotAgent {
  info: AgentInfo;
  offers: readonly Offer[];
  kubelet?: { podCount: number; maxPods: number };
  pods: PlacedPod[];
  unschedulable: boolean;
}

export function agentView(a: SnapshotAgent): AgentView {
  return {
    id: a.info.id,
    hostname: a.info.hostname,
    nodeName: a.info.nodeName,
    zone: a.info.zone,
    region: a.info.region,
    attributes: a.info.attributes,
    labels: a.info.labels,
    taints: [],
    unschedulable: a.unschedulable,
    offered: offeredSlices(a.offers),
    kubelet: a.kubelet,
    pods: a.pods,
  };
}

/**
 * The snapshot of a cycle: every agent outside the failed zones with its held offers, its kubelet and the pods on it
 * (tasks' pods, and bound pods the registry does not know yet). An agent is marked unschedulable while it is lost, its
 * kubelet is going away, or it has no kubelet and the pool may not start one (limit reached, or a drain in progress).
 */
export function buildSnapshot(
  s: CoreState,
  o: { unhealthyZones: ReadonlySet<string>; kubeletCounts: KubeletCounts; pool: PoolConfig; maxPodsPerKubelet: number },
): AgentView[] {
  const podsByAgent = new Map<string, PlacedPod[]>();
  const add = (agentId: string, p: PlacedPod) => {
    let list = podsByAgent.get(agentId);
    if (!list) podsByAgent.set(agentId, (list = []));
    list.push(p);
  };
  const seen = new Set<string>();
  for (const t of s.tasks.all()) {
    const pod = s.pods.get(t.podUid);
    if (!pod) continue;
    seen.add(t.podUid);
    add(t.agentId, placedPod(pod, t.hostPorts));
  }
  for (const pod of s.pods.values()) {
    const uid = pod.metadata!.uid!;
    if (seen.has(uid) || !pod.spec?.nodeName || isFinished(pod)) continue;
    const agentId = pod.metadata?.annotations?.[ANNOTATION_AGENT_ID] ?? s.agentByNode.get(pod.spec.nodeName);
    if (agentId) add(agentId, placedPod(pod, hostPortsOf(pod)));
  }
  const views: AgentView[] = [];
  for (const [id, a] of s.agents) {
    // A failed zone is not a spreading domain at all: nothing goes there and it does not hold replacements back.
    if (a.info.zone !== undefined && o.unhealthyZones.has(a.info.zone)) continue;
    const k = s.tasks.kubelet(id);
    const pods = podsByAgent.get(id) ?? [];
    // A drain never holds back new kubelets for other pods (the cycle keeps only the drained pods off new kubelets).
    const noNewKubelet = !k && !canAddKubelet(a.info.zone ?? '', o.kubeletCounts, o.pool);
    views.push(
      agentView({
        info: a.info,
        offers: s.offers.forAgent(id),
        kubelet: k ? { podCount: pods.length, maxPods: o.maxPodsPerKubelet } : undefined,
        pods,
        unschedulable: s.failover.isAgentLost(id) || k?.state === 'removing' || k?.state === 'draining' || noNewKubelet,
      }),
    );
  }
  return views;
}
