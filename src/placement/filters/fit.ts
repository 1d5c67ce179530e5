import { fail, failMany, type FilterPlugin, type PodCtx, type Status } from '../framework.js';
import { slotOf, type CycleState, type Slot, type WAgent } from '../state.js';
import type { PortRange } from '../types.js';
import { nodeExtFits, nodeExtShortfalls, scalarShortfalls, scalarsFit } from './extended-resources.js';

export const REASON_TOO_MANY_PODS = 'Too many pods';
/** Mesos-only: the agent's held offers have nothing for any of the pod's roles. */
export const REASON_NO_OFFERS = "node(s) had no offers for the pod's roles";
/** kube-scheduler's names for the resources (Mesos' cpus, mem, disk); `ports` is Mesos-only (the offered ranges). */
const KUBE_NAME = { cpus: 'cpu', mem: 'memory', disk: 'ephemeral-storage', ports: 'ports' } as const;
export const insufficient = (what: 'cpus' | 'mem' | 'disk' | 'ports'): string => `Insufficient ${KUBE_NAME[what]}`;

/** Slack in resource comparisons (quantities are rounded to thousandths). */
export const EPS = 1e-6;
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

function shortfalls(s: Slot, n: { cpus: number; mem: number; disk: number }, pod: PodCtx): string[] {
  const out: string[] = [];
  if (s.cpus + EPS < n.cpus) out.push(insufficient('cpus'));
  if (s.mem + EPS < n.mem) out.push(insufficient('mem'));
  if (s.disk + EPS < n.disk) out.push(insufficient('disk'));
  scalarShortfalls(s, pod.mesosScalars, out);
  if (pod.ports.length && !portsAvailable(s.ports, pod.ports)) out.push(insufficient('ports'));
  return out;
}

/**
 * The first of the pod's roles (in its order of preference) whose offers on this agent hold the pod; Mesos
 * wants all of a task's (and its executor's) resources allocated to one role.
 */
export function chooseSlot(pod: PodCtx, a: WAgent, _st?: CycleState): Slot | undefined {
  const slots = a.slots;
  if (a.slotSeq === pod.seq) return a.slotIdx < 0 ? undefined : slots[a.slotIdx]; // nothing on the agent changes between filter, score and commit
  const n = a.hasKubelet ? pod.pod.requests : pod.needExec;
  let found = -1;
  const roles = pod.roles;
  outer: for (let r = 0; r < roles.length; r++) {
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (s.role !== roles[r]) continue;
      if (
        s.cpus + EPS >= n.cpus &&
        s.mem + EPS >= n.mem &&
        s.disk + EPS >= n.disk &&
        (pod.ports.length === 0 || portsAvailable(s.ports, pod.ports)) &&
        (pod.mesosScalars === null || scalarsFit(s, pod.mesosScalars))
      ) {
        found = i;
        break outer;
      }
      break; // one slot per role
    }
  }
  a.slotIdx = found;
  a.slotSeq = pod.seq;
  return found < 0 ? undefined : slots[found];
}

/**
 * Resources (cpus, mem, disk, Mesos-managed extended resources, ports) from one of the pod's roles, Node-advertised
 * extended resources, and the kubelet's pod limit.
 */
export const fitFilter: FilterPlugin<true> = {
  name: 'NodeResourcesFit',
  prepare: () => true,
  filter: (_d, a, pod, st): Status | undefined => {
    if (a.podCount >= a.maxPods) return TOO_MANY;
    const nodeOk = nodeExtFits(pod, a);
    if (nodeOk && chooseSlot(pod, a, st)) return undefined;
    // Report the shortfalls of the offered role that came closest.
    const n = need(pod, a, st);
    let best: string[] | undefined;
    if (!chooseSlot(pod, a, st)) {
      for (const role of pod.roles) {
        const s = slotOf(a, role);
        if (!s) continue;
        const f = shortfalls(s, n, pod);
        if (!best || f.length < best.length) best = f;
      }
      if (!best && nodeOk) return NO_OFFERS;
    }
    const out = best ?? (chooseSlot(pod, a, st) ? [] : [REASON_NO_OFFERS]);
    if (!nodeOk) nodeExtShortfalls(pod, a, out);
    return out.length ? failMany(out) : NO_OFFERS;
  },
};
