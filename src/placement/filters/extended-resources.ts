// Extended resources (kube-scheduler's NodeResourcesFit for scalar resources), in two kinds:
// - Mesos-managed: a Kubernetes name mapped to a Mesos scalar (nvidia.com/gpu ↔ gpus); taken from the offer of the
//   pod's role like cpus, and carried by the pod's task;
// - Node-advertised: a resource the Node's allocatable lists and Mesos does not manage (a device plugin's, or capacity
//   an operator patched onto the Node); a pod fits where allocatable minus the requests of the pods bound there covers it.
import type { PodCtx } from '../framework.js';
import type { Slot, WAgent } from '../state.js';
import type { PlanConfig, PodSpecView } from '../types.js';

/** Kubernetes name → Mesos scalar, when the configuration names none. */
export const DEFAULT_EXTENDED: Readonly<Record<string, string>> = Object.freeze({ 'nvidia.com/gpu': 'gpus' });

export interface MesosScalarNeed {
  /** Kubernetes name, for messages. */
  name: string;
  /** Mesos resource name, in offers and the task. */
  mesos: string;
  amount: number;
}

export interface NodeExtNeed {
  name: string;
  amount: number;
}

const EPS = 1e-6;

/** kube's IsExtendedResourceName: outside the kubernetes.io namespace, with a domain, not a quota name. */
export function isExtendedResourceName(name: string): boolean {
  return name.includes('/') && !name.includes('kubernetes.io/') && !name.startsWith('requests.');
}

export function extendedMapping(cfg: PlanConfig): Readonly<Record<string, string>> {
  return cfg.extendedResources ?? DEFAULT_EXTENDED;
}

/** Splits the pod's extended requests into Mesos-managed and Node-advertised ones (null = none of that kind). */
export function splitExtended(pod: PodSpecView, cfg: PlanConfig): { mesos: MesosScalarNeed[] | null; node: NodeExtNeed[] | null } {
  const ext = pod.extended;
  if (!ext) return { mesos: null, node: null };
  const map = extendedMapping(cfg);
  let mesos: MesosScalarNeed[] | null = null;
  let node: NodeExtNeed[] | null = null;
  for (const name of Object.keys(ext).sort()) {
    const amount = ext[name];
    if (!(amount > 0)) continue;
    const m = map[name];
    if (m !== undefined) (mesos ??= []).push({ name, mesos: m, amount });
    else (node ??= []).push({ name, amount });
  }
  return { mesos, node };
}

export function scalarsFit(s: Slot, needs: readonly MesosScalarNeed[]): boolean {
  const have = s.scalars;
  if (!have) return false;
  for (const n of needs) if ((have[n.mesos] ?? 0) + EPS < n.amount) return false;
  return true;
}

export function scalarShortfalls(s: Slot, needs: readonly MesosScalarNeed[] | null, out: string[]): void {
  if (!needs) return;
  for (const n of needs) if ((s.scalars?.[n.mesos] ?? 0) + EPS < n.amount) out.push(`Insufficient ${n.name}`);
}

/** What the Node advertises minus what the pods bound there (and placed by this plan) request. Computed once per agent and plan. */
export function nodeExtFree(a: WAgent): Record<string, number> | null {
  if (a.extFree !== undefined) return a.extFree;
  const alloc = a.view.nodeExtended;
  let free: Record<string, number> | null = null;
  if (alloc) {
    free = { ...alloc };
    for (const p of a.view.pods) {
      if (!p.extended) continue;
      for (const [k, v] of Object.entries(p.extended)) if (free[k] !== undefined) free[k] -= v;
    }
  }
  a.extFree = free;
  return free;
}

export function nodeExtFits(pod: PodCtx, a: WAgent): boolean {
  const needs = pod.nodeExt;
  if (!needs) return true;
  const free = nodeExtFree(a);
  for (const n of needs) if ((free?.[n.name] ?? 0) + EPS < n.amount) return false;
  return true;
}

export function nodeExtShortfalls(pod: PodCtx, a: WAgent, out: string[]): void {
  const needs = pod.nodeExt;
  if (!needs) return;
  const free = nodeExtFree(a);
  for (const n of needs) if ((free?.[n.name] ?? 0) + EPS < n.amount) out.push(`Insufficient ${n.name}`);
}

/** Takes a placed pod's extended resources from the slot and the agent's Node-advertised free amounts. */
export function takeExtended(pod: PodCtx, a: WAgent, s: Slot): Record<string, number> | undefined {
  let scalars: Record<string, number> | undefined;
  if (pod.mesosScalars) {
    scalars = {};
    for (const n of pod.mesosScalars) {
      if (s.scalars) s.scalars[n.mesos] = Math.round(((s.scalars[n.mesos] ?? 0) - n.amount) * 1000) / 1000;
      scalars[n.mesos] = (scalars[n.mesos] ?? 0) + n.amount;
    }
  }
  if (pod.nodeExt) {
    const free = nodeExtFree(a);
    if (free) for (const n of pod.nodeExt) if (free[n.name] !== undefined) free[n.name] -= n.amount;
  }
  return scalars;
}
