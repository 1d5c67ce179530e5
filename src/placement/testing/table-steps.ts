// Seeded steps for the kept-table invariant tests (agent-table.invariant.test.ts, pod-groups.invariant.test.ts): agents
// as they arrive, the batches of pods each plan places, and the next snapshot after a plan (its placements carried out
// or not, then random changes from outside).
import { agentLabels } from '../state.js';
import { makeAgent, makePod } from './builders.js';
import type { AgentView, PlacedPod, Plan, PodSpecView } from '../types.js';

export const ZONES = ['a', 'b', 'c', 'd'];

export function newAgent(i: number, rnd: () => number): AgentView {
  // zone 'd' appears only among later arrivals: a domain the kept indexes have not seen
  const zone = ZONES[i < 12 ? i % 3 : Math.floor(rnd() * 4)];
  const b = makeAgent(`agent-${i}`).zone(zone).attr('rack', `r${i % 4}`).offer('*', { cpus: 1 + Math.floor(rnd() * 4), mem: 4096, disk: 1000 }, [[31000, 31010]]);
  if (rnd() < 0.2) b.offer('prod', { cpus: 1, mem: 1024, disk: 100 });
  if (rnd() < 0.15) b.taint({ key: 'soft', value: 'x', effect: 'PreferNoSchedule' });
  if (rnd() < 0.1) b.avoid('ReplicaSet', 'rs-1');
  if (rnd() < 0.2) b.kubelet(0, 110);
  return b.build();
}

/** The same kinds of pods every cycle (so both tables make the same per-spec arrays), with seeded requests. */
export function batch(rnd: () => number, cycle: number): PodSpecView[] {
  const out: PodSpecView[] = [];
  for (let i = 0; i < 16; i++) {
    const kind = i % 8;
    const app = `app-${kind}`;
    const p = makePod(`c${cycle}-p${i}`).labels({ app }).owner(kind === 5 ? 'rs-1' : `owner-${app}`, 'ReplicaSet').requests({ cpus: [0.1, 0.25, 0.5][Math.floor(rnd() * 3)], mem: 128 });
    switch (kind) {
      case 0:
        p.spreadConstraint({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', labelSelector: { matchLabels: { app } } });
        break;
      case 1:
        p.antiAffinity({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app } } });
        break;
      case 2:
        p.constraint('@zone', 'GROUP_BY', '3');
        break;
      case 3:
        p.nodeSelector({ 'topology.kubernetes.io/zone': 'b' });
        break;
      case 4:
        p.hostPort(31000 + (cycle % 5));
        break;
      case 6:
        p.toleration({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }).scoring('binpack').roles('prod', '*');
        break;
      case 7:
        p.spreadConstraint({ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { app } } });
        break;
      default:
        break; // the controller some Nodes prefer to avoid
    }
    out.push(p.build());
  }
  return out;
}

/**
 * The next snapshot after `r`: placements carried out (or not), then random changes from outside; changed agents are new
 * objects. `arrivals.n` numbers the next agent to arrive; none arrive while there are `max`; `gone` is the share of the
 * changes of the last kind that take an agent away (renumbering: the table is built afresh), default 0.3.
 */
export function next(
  views: AgentView[],
  pods: PodSpecView[],
  r: Plan,
  rnd: () => number,
  arrivals: { n: number; max?: number; gone?: number },
): { views: AgentView[]; kinds: string[] } {
  let out = [...views];
  const kinds: string[] = [];
  const byKey = new Map(pods.map((p) => [p.key, p]));
  const index = new Map(views.map((v, i) => [v.id, i]));
  if (rnd() < 0.75) {
    for (const pl of r.placements) {
      const i = index.get(pl.agentId)!;
      const v = out[i];
      const pod = byKey.get(pl.podKey)!;
      const offered = v.offered.map((o) => (o.role === pl.role ? { role: o.role, res: { cpus: o.res.cpus - pl.res.cpus, mem: o.res.mem - pl.res.mem, disk: o.res.disk }, ports: o.ports } : o));
      const placed: PlacedPod = { uid: pod.uid, namespace: pod.namespace, name: pod.name, labels: pod.labels, ownerUid: pod.ownerUid, hostPorts: pl.hostPorts, affinity: pod.affinity, requests: pod.requests };
      out[i] = { ...v, offered, pods: [...v.pods, placed], kubelet: { podCount: v.pods.length + 1, maxPods: 110 } };
    }
  } else kinds.push('plan not carried out');
  const changes = 1 + Math.floor(rnd() * 4);
  for (let c = 0; c < changes; c++) {
    const j = Math.floor(rnd() * out.length);
    const v = out[j];
    const what = Math.floor(rnd() * 9);
    switch (what) {
      case 0: // offers used by another framework, or declined
        out[j] = { ...v, offered: rnd() < 0.5 ? [] : v.offered.map((o) => ({ ...o, res: { ...o.res, cpus: Math.max(0, o.res.cpus - 1) } })) };
        kinds.push('offers taken');
        break;
      case 1: // offers back, more than before
        out[j] = { ...v, offered: [{ role: '*', res: { cpus: 2 + Math.floor(rnd() * 6), mem: 8192, disk: 1000 }, ports: [[31000, 31010]] }] };
        kinds.push('offers back');
        break;
      case 2: // a pod gone (and its kubelet, when it was the last)
        if (v.pods.length > 0) {
          const pods = v.pods.slice(1);
          out[j] = { ...v, pods, kubelet: pods.length ? { podCount: pods.length, maxPods: 110 } : undefined };
          kinds.push('pod gone');
        }
        break;
      case 3:
        out[j] = { ...v, taints: v.taints.length ? [] : [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] };
        kinds.push('taint');
        break;
      case 4:
        out[j] = { ...v, unschedulable: !v.unschedulable };
        kinds.push('cordon');
        break;
      case 5: {
        const zone = ZONES[(ZONES.indexOf(v.zone!) + 1) % ZONES.length];
        out[j] = { ...v, zone, labels: agentLabels({ ...v, zone }) };
        kinds.push('relabel');
        break;
      }
      case 6:
      case 7: {
        if (arrivals.max !== undefined && out.length >= arrivals.max) break; // a cluster of a bounded size (long runs)
        const k = 1 + Math.floor(rnd() * 5);
        for (let x = 0; x < k; x++) out.push(newAgent(arrivals.n++, rnd));
        kinds.push('arrivals');
        break;
      }
      default:
        if (rnd() < (arrivals.gone ?? 0.3) && out.length > 8) {
          out = out.filter((_, i) => i !== j);
          kinds.push('agent gone');
        } else {
          out[j] = { ...v, kubelet: v.kubelet ? undefined : { podCount: v.pods.length, maxPods: 3 } };
          kinds.push('kubelet');
        }
    }
  }
  return { views: out, kinds };
}
