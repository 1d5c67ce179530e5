// One agent's working copy (what plan() draws on) made from its view, and the per-agent array helpers the table uses.
import { round3 } from './quantity.js';
import type { Labels } from './selectors.js';
import type { AgentView, PlanConfig, PlacedPod, PortRange } from './types.js';

export interface Slot {
  role: string;
  cpus: number;
  mem: number;
  disk: number;
  /** Free port ranges; shared with the view until a pod takes ports (then replaced, never changed in place). */
  ports: readonly PortRange[];
  /** Other Mesos scalars offered to the role (`gpus`); null = none. */
  scalars: Record<string, number> | null;
}

export interface WAgent {
  idx: number;
  view: AgentView;
  id: string;
  labels: Labels;
  /** The Node name (NodeLike: a WAgent is what node selectors look at). */
  name: string;
  slots: Slot[];
  hasKubelet: boolean;
  /** A kubelet is launched on this agent by this plan. */
  newKubelet: boolean;
  podCount: number;
  maxPods: number;
  /** Host ports of the pods here; null while there are none. */
  usedPorts: Set<number> | null;
  /** Pods placed here by this plan. */
  added: PlacedPod[];
  /**
   * chooseSlot()'s answer for the pod numbered slotSeq, as an index into slots (-1: none). A number, not the Slot: the
   * agent outlives many plans (old generation) and storing a young object in it on every visit costs a write barrier.
   */
  slotIdx: number;
  slotSeq: number;
  /** Node-advertised extended resources left; undefined until a pod asks (see nodeExtFree()). */
  extFree: Record<string, number> | null | undefined;
}

function slotsOf(view: AgentView): Slot[] {
  // Plain loops, no closures: this runs for every agent whose view changed.
  const slots: Slot[] = [];
  const offered = view.offered;
  for (let i = 0; i < offered.length; i++) {
    const o = offered[i];
    let s: Slot | undefined;
    for (let j = 0; j < slots.length; j++) if (slots[j].role === o.role) s = slots[j];
    // The view's ranges, shared: a slot's ports are never changed in place, only replaced (plan.ts takePorts).
    const ports = o.ports;
    const sc = o.scalars;
    if (!s) slots.push({ role: o.role, cpus: o.res.cpus, mem: o.res.mem, disk: o.res.disk, ports, scalars: sc ? { ...sc } : null });
    else {
      s.cpus = round3(s.cpus + o.res.cpus);
      s.mem = round3(s.mem + o.res.mem);
      s.disk = round3(s.disk + o.res.disk);
      s.ports = [...s.ports, ...ports].sort((x, y) => x[0] - y[0]);
      if (sc) {
        const t = (s.scalars ??= {});
        for (const k in sc) t[k] = round3((t[k] ?? 0) + sc[k]);
      }
    }
  }
  return slots;
}

function usedPortsOf(view: AgentView): Set<number> | null {
  let usedPorts: Set<number> | null = null;
  const pods = view.pods;
  for (let i = 0; i < pods.length; i++) {
    const hp = pods[i].hostPorts;
    for (let j = 0; j < hp.length; j++) (usedPorts ??= new Set()).add(hp[j]);
  }
  return usedPorts;
}

export function makeAgent(view: AgentView, idx: number, cfg: PlanConfig): WAgent {
  const a: WAgent = {
    idx,
    view,
    id: view.id,
    labels: view.labels,
    name: view.nodeName ?? view.hostname,
    slots: [],
    hasKubelet: false,
    newKubelet: false,
    podCount: 0,
    maxPods: 0,
    usedPorts: null,
    added: [],
    slotIdx: -1,
    slotSeq: 0,
    extFree: undefined,
  };
  resetAgent(a, view, cfg);
  return a;
}

/** Back to what `view` says, in place (the object's identity is kept: lists and plans refer to it). */
export function resetAgent(a: WAgent, view: AgentView, cfg: PlanConfig): void {
  a.view = view;
  a.id = view.id;
  a.labels = view.labels;
  a.name = view.nodeName ?? view.hostname;
  a.slots = slotsOf(view);
  // Pods assumed on an agent whose kubelet has not reported yet ride on the executor launched with the first one.
  a.hasKubelet = view.kubelet !== undefined || view.pods.length > 0;
  a.newKubelet = false;
  a.podCount = Math.max(view.kubelet?.podCount ?? 0, view.pods.length);
  a.maxPods = view.kubelet?.maxPods ?? cfg.maxPodsPerKubelet;
  a.usedPorts = usedPortsOf(view);
  if (a.added.length) a.added = [];
  a.slotIdx = -1;
  a.extFree = undefined;
}

/** The agent's offered resources for a role (few roles per agent: a scan beats a Map). */
export function slotOf(a: WAgent, role: string): Slot | undefined {
  const slots = a.slots;
  for (let i = 0; i < slots.length; i++) if (slots[i].role === role) return slots[i];
  return undefined;
}

/** Agents numbered per distinct value of a label or Marathon field. ids[agent] = -1: the agent lacks it. */
export interface DomainIndex {
  ids: Int32Array;
  names: string[];
  /**
   * Per domain, a bitset of its agents (bit i of word i >> 5: ids[i] is that domain), kept with ids (domain-index.ts);
   * null once there are too many domains.
   */
  bits: Int32Array[] | null;
}

/** A Marathon field's value on an agent; undefined when the agent lacks it. */
export function fieldValue(a: AgentView, field: string): string | undefined {
  switch (field) {
    case '@hostname':
    case 'hostname':
      return a.hostname;
    case '@zone':
      return a.zone;
    case '@region':
      return a.region;
    default:
      return a.attributes[field];
  }
}

/**
 * A copy of `a` with room for `to` agents instead of `from` (entries per agent kept: capacities hold two); the new
 * entries hold `fill` (0 unless told).
 */
export function grown<T extends Int32Array | Uint8Array | Float64Array>(a: T, from: number, to: number, fill = 0): T {
  const per = from > 0 ? a.length / from : 1;
  const b = new (a.constructor as new (n: number) => T)(per * to);
  b.set(a);
  if (fill !== 0) b.fill(fill, a.length);
  return b;
}
