import { fail, failMany, type FilterPlugin, type PodCtx, type Status } from '../framework.js';
import { slotOf, type CycleState, type Slot, type WAgent } from '../state.js';
import type { PortRange } from '../types.js';

export const REASON_TOO_MANY_PODS = 'Too many pods';
export const REASON_NO_OFFERS = "node(s) had no offers for the pod's roles";
export const insufficient = (what: 'cpus' | 'mem' | 'disk' | 'ports'): string => `Insufficient ${what}`;

const EPS = 1e-6;
const TOO_MANY = fail(REASON_TOO_MANY_PODS);
const NO_OFFERS = fail(REASON_NO_OFFERS);

export function portsAvailable(ranges: readonly PortRange[], ports: readonly number[]): boolean {
  outer: for (const p of ports) {
    for (const r of ranges) if (p >= r[0] && p <= r[1]) continue outer;
    return false;
  }
  return true;
}

/** What one pod takes from a slot: its requests, plus the kubelet executor when the agent has none yet. */
export function need(pod: PodCtx, a: WAgent, _st?: CycleState): { cpus: number; mem: number; disk: number } {
  return a.hasKubelet ? pod.pod.requests : pod.needExec;
}

function shortfalls(s: Slot, n: { cpus: number; mem: number; disk: number }, ports: readonly number[]): string[] {
  const out: string[] = [];
  if (s.cpus + EPS < n.cpus) out.push(insufficient('cpus'));
  if (s.mem + EPS < n.mem) out.push(insufficient('mem'));
  if (s.disk + EPS < n.disk) out.push(insufficient('disk'));
  if (ports.length && !portsAvailable(s.ports, ports)) out.push(insufficient('ports'));
  return out;
}

/**
 * The first of the pod's roles (in its order of preference) whose offers on this agent hold the pod; Mesos
 * wants all of a task's (and its executor's) resources allocated to one role.
 */
export function chooseSlot(pod: PodCtx, a: WAgent, _st?: CycleState): Slot | undefined {
  if (a.slotSeq === pod.seq) return a.slot; // nothing on the agent changes between filter, score and commit
  const n = a.hasKubelet ? pod.pod.requests : pod.needExec;
  let found: Slot | undefined;
  for (const role of pod.roles) {
    const s = slotOf(a, role);
    if (!s) continue;
    if (s.cpus + EPS >= n.cpus && s.mem + EPS >= n.mem && s.disk + EPS >= n.disk && (pod.ports.length === 0 || portsAvailable(s.ports, pod.ports))) {
      found = s;
      break;
    }
  }
  a.slot = found;
  a.slotSeq = pod.seq;
  return found;
}

/** Resources (cpus, mem, disk, ports) from one of the pod's roles, and the kubelet's pod limit. */
export const fitFilter: FilterPlugin<true> = {
  name: 'NodeResourcesFit',
  prepare: () => true,
  filter: (_d, a, pod, st): Status | undefined => {
    if (a.podCount >= a.maxPods) return TOO_MANY;
    if (chooseSlot(pod, a, st)) return undefined;
    // Report the shortfalls of the offered role that came closest.
    const n = need(pod, a, st);
    let best: string[] | undefined;
    for (const role of pod.roles) {
      const s = slotOf(a, role);
      if (!s) continue;
      const f = shortfalls(s, n, pod.ports);
      if (!best || f.length < best.length) best = f;
    }
    if (!best) return NO_OFFERS;
    return failMany(best);
  },
};
