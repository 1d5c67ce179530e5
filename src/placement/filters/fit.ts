import { fail, failMany, type FilterPlugin, type PodCtx, type Status } from '../framework.js';
import type { CycleState, Slot, WAgent } from '../state.js';
import type { PortRange } from '../types.js';

export const REASON_TOO_MANY_PODS = 'Too many pods';
export const REASON_NO_OFFERS = "node(s) had no offers for the pod's roles";
export const insufficient = (what: 'cpus' | 'mem' | 'disk' | 'ports'): string => `Insufficient ${what}`;

const EPS = 1e-6;

export function portsAvailable(ranges: readonly PortRange[], ports: readonly number[]): boolean {
  outer: for (const p of ports) {
    for (const r of ranges) if (p >= r[0] && p <= r[1]) continue outer;
    return false;
  }
  return true;
}

/** What one pod takes from a slot: its requests, plus the kubelet executor when the agent has none yet. */
export function need(pod: PodCtx, a: WAgent, st: CycleState): { cpus: number; mem: number; disk: number } {
  const r = pod.pod.requests;
  if (a.hasKubelet) return r;
  const e = st.cfg.executor;
  return { cpus: r.cpus + e.cpus, mem: r.mem + e.mem, disk: r.disk + e.disk };
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
export function chooseSlot(pod: PodCtx, a: WAgent, st: CycleState): Slot | undefined {
  const n = need(pod, a, st);
  for (const role of pod.roles) {
    const s = a.slotByRole.get(role);
    if (!s) continue;
    if (s.cpus + EPS >= n.cpus && s.mem + EPS >= n.mem && s.disk + EPS >= n.disk && (pod.ports.length === 0 || portsAvailable(s.ports, pod.ports))) return s;
  }
  return undefined;
}

/** Resources (cpus, mem, disk, ports) from one of the pod's roles, and the kubelet's pod limit. */
export const fitFilter: FilterPlugin<true> = {
  name: 'NodeResourcesFit',
  prepare: () => true,
  filter: (_d, a, pod, st): Status | undefined => {
    if (a.podCount >= a.maxPods) return fail(REASON_TOO_MANY_PODS);
    if (chooseSlot(pod, a, st)) return undefined;
    // Report the shortfalls of the offered role that came closest.
    const n = need(pod, a, st);
    let best: string[] | undefined;
    for (const role of pod.roles) {
      const s = a.slotByRole.get(role);
      if (!s) continue;
      const f = shortfalls(s, n, pod.ports);
      if (!best || f.length < best.length) best = f;
    }
    if (!best) return fail(REASON_NO_OFFERS);
    return failMany(best);
  },
};
