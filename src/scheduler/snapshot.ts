/**
 * Builds the read-only snapshot that placement's plan() sees: every known agent with what its held offers give per role,
 * its kubelet, and the pods on it. Pure.
 */
import { reservationRole } from '../mesos/resources.js';
import type { Offer } from '../mesos/types.js';
import type { AgentView, OfferedSlice, PlacedPod, PortRange } from '../placement/types.js';
import type { AgentInfo } from './agent-info.js';

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
