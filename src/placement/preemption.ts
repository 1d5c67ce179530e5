// kube-scheduler 1.20's DefaultPreemption on Mesos resources, as a pure function: for a pod that fits nowhere, the
// agent where evicting the fewest, least important lower-priority pods makes room (PodDisruptionBudgets violated as
// little as possible). A victim's requests return to the role its task took them from; the pod lands when Mesos
// offers that room again (the plan holds it there for the nominated pod, see plan()).
import { extendedMapping } from './filters/extended-resources.js';
import { makePodCtx, type FilterPlugin } from './framework.js';
import { FILTERS } from './plan.js';
import { compileLabelSelector } from './selectors.js';
import { CycleState } from './state.js';
import type { AgentView, OfferedSlice, PlacedPod, PlanConfig, PodSpecView, V1LabelSelector } from './types.js';

/** A PodDisruptionBudget as preemption needs it. */
export interface PdbView {
  namespace: string;
  selector?: V1LabelSelector;
  /** status.disruptionsAllowed */
  disruptionsAllowed: number;
  /** status.disruptedPods: names already being disrupted (not counted again). */
  disruptedPods?: string[];
}

export interface Victim {
  uid: string;
  namespace: string;
  name: string;
  priority: number;
  terminating: boolean;
}

export interface PreemptionPlan {
  podKey: string;
  agentId: string;
  /** status.nominatedNodeName to set on the pod. */
  nodeName: string;
  /** Most important first. Already terminating victims need no second eviction. */
  victims: Victim[];
  pdbViolations: number;
  /** Pending pods of lower priority nominated to the same node: their nominations are cleared, as kube-scheduler does. */
  clearNominated: string[];
}

export type PreemptionResult = { ok: true; plan: PreemptionPlan } | { ok: false; reason: string };

export interface NominatedPod {
  podKey: string;
  priority: number;
  nodeName: string;
}

interface Candidate {
  idx: number;
  victims: PlacedPod[];
  violations: number;
}

/** kube-scheduler's calculateNumCandidates: 10% of the agents, at least 100. */
export function numCandidates(agents: number): number {
  const n = Math.floor((agents * 10) / 100);
  return Math.min(agents, Math.max(n, 100));
}

/** kube's MoreImportantPod: higher priority, then the one that started earlier. */
function moreImportant(a: PlacedPod, b: PlacedPod): number {
  const d = (b.priority ?? 0) - (a.priority ?? 0);
  if (d !== 0) return d;
  return (a.startedAtMs ?? 0) - (b.startedAtMs ?? 0);
}

const nodeNameOf = (a: AgentView): string => a.nodeName ?? a.hostname;

/**
 * Where `pod` (which plan() just found no room for) could go by evicting lower-priority pods. `start` rotates where
 * the candidate search begins (kube-scheduler draws it at random; callers pass a seeded or rotating number).
 */
export function planPreemption(
  agents: readonly AgentView[],
  pod: PodSpecView,
  cfg: PlanConfig,
  pdbs: readonly PdbView[] = [],
  nominated: readonly NominatedPod[] = [],
  start = 0,
): PreemptionResult {
  if (pod.preemptionPolicy === 'Never') return { ok: false, reason: 'preemptionPolicy is Never' };
  const st = new CycleState(agents, cfg);
  const ctx = makePodCtx(pod, st);
  const prepared: [FilterPlugin<unknown>, unknown][] = [];
  for (const f of FILTERS) {
    const d = f.prepare(ctx, st);
    if (d !== undefined) prepared.push([f, d]);
  }
  const statusOn = (i: number) => {
    for (const [f, d] of prepared) {
      const s = f.filter(d, st.agents[i], ctx, st);
      if (s) return s;
    }
    return undefined;
  };
  // PodEligibleToPreemptOthers: wait while lower-priority pods on the nominated node are still terminating.
  if (pod.nominatedNodeName) {
    const i = agents.findIndex((a) => nodeNameOf(a) === pod.nominatedNodeName || a.id === pod.nominatedNodeName);
    if (i >= 0 && !statusOn(i)?.unresolvable && agents[i].pods.some((p) => p.terminating && (p.priority ?? 0) < pod.priority)) {
      return { ok: false, reason: `waiting for lower-priority pods on ${pod.nominatedNodeName} to terminate` };
    }
  }
  const n = agents.length;
  const want = numCandidates(n);
  const candidates: Candidate[] = [];
  let nonViolating = 0;
  let helpable = 0;
  for (let k = 0; k < n && nonViolating < want; k++) {
    const i = (start + k) % n;
    const s = statusOn(i);
    if (s?.unresolvable) continue; // nodesWherePreemptionMightHelp
    helpable++;
    const c = selectVictims(agents, i, pod, cfg, pdbs);
    if (!c) continue;
    candidates.push(c);
    if (c.violations === 0) nonViolating++;
  }
  if (candidates.length === 0) {
    return { ok: false, reason: helpable === 0 ? 'preemption is not helpful for scheduling' : 'no lower-priority pods whose eviction makes room' };
  }
  const best = pickOne(candidates);
  const a = agents[best.idx];
  const nodeName = nodeNameOf(a);
  return {
    ok: true,
    plan: {
      podKey: pod.key,
      agentId: a.id,
      nodeName,
      victims: best.victims.map((v) => ({ uid: v.uid, namespace: v.namespace, name: v.name, priority: v.priority ?? 0, terminating: v.terminating === true })),
      pdbViolations: best.violations,
      clearNominated: nominated.filter((x) => x.nodeName === nodeName && x.priority < pod.priority && x.podKey !== pod.key).map((x) => x.podKey),
    },
  };
}

/** The agent's view with `removed` gone: their requests (and Mesos-managed extended resources) back in their roles' offers. */
function without(a: AgentView, removed: readonly PlacedPod[], cfg: PlanConfig): AgentView {
  const offered: OfferedSlice[] = a.offered.map((o) => ({ role: o.role, res: { ...o.res }, ports: o.ports, ...(o.scalars ? { scalars: { ...o.scalars } } : {}) }));
  const map = extendedMapping(cfg);
  for (const p of removed) {
    const role = p.role ?? '*';
    let o = offered.find((x) => x.role === role);
    if (!o) offered.push((o = { role, res: { cpus: 0, mem: 0, disk: 0 }, ports: [] }));
    const r = p.requests!;
    o.res = { cpus: o.res.cpus + r.cpus, mem: o.res.mem + r.mem, disk: o.res.disk + r.disk };
    for (const [name, amount] of Object.entries(p.extended ?? {})) {
      const m = map[name];
      if (m !== undefined) o.scalars = { ...(o.scalars ?? {}), [m]: (o.scalars?.[m] ?? 0) + amount };
    }
    for (const port of p.hostPorts) o.ports = [...o.ports, [port, port]];
  }
  const gone = new Set(removed.map((p) => p.uid));
  const pods = a.pods.filter((p) => !gone.has(p.uid));
  return {
    ...a,
    offered,
    pods,
    kubelet: a.kubelet ? { podCount: Math.max(0, a.kubelet.podCount - removed.length), maxPods: a.kubelet.maxPods } : undefined,
  };
}

/** Whether the pod passes every filter on agent i once `removed` are gone. Spread and affinity see the whole cluster. */
function fitsWithout(agents: readonly AgentView[], i: number, removed: readonly PlacedPod[], pod: PodSpecView, cfg: PlanConfig): boolean {
  const local = pod.topologySpreadConstraints.length === 0 && pod.constraints.length === 0 && !pod.spread && !pod.affinity?.podAffinity && !pod.affinity?.podAntiAffinity;
  const changed = without(agents[i], removed, cfg);
  let views: AgentView[];
  let idx: number;
  if (local) {
    views = [changed];
    idx = 0;
  } else {
    views = agents.slice();
    views[i] = changed;
    idx = i;
  }
  const st = new CycleState(views, cfg);
  const ctx = makePodCtx(pod, st);
  for (const f of FILTERS) {
    const d = f.prepare(ctx, st);
    if (d !== undefined && f.filter(d, st.agents[idx], ctx, st)) return false;
  }
  return true;
}

/** kube-scheduler's selectVictimsOnNode: remove every lower-priority pod, then reprieve as many as still let the pod fit. */
function selectVictims(agents: readonly AgentView[], i: number, pod: PodSpecView, cfg: PlanConfig, pdbs: readonly PdbView[]): Candidate | undefined {
  const potential = agents[i].pods.filter((p) => p.priority !== undefined && p.requests !== undefined && p.priority < pod.priority).sort(moreImportant);
  if (potential.length === 0) return undefined;
  if (!fitsWithout(agents, i, potential, pod, cfg)) return undefined;
  const { violating, nonViolating } = splitByPdb(potential, pdbs);
  const removed = new Set(potential);
  const victims: PlacedPod[] = [];
  let violations = 0;
  const reprieve = (p: PlacedPod): boolean => {
    removed.delete(p);
    if (fitsWithout(agents, i, [...removed], pod, cfg)) return true;
    removed.add(p);
    victims.push(p);
    return false;
  };
  for (const p of violating) if (!reprieve(p)) violations++;
  for (const p of nonViolating) reprieve(p);
  return { idx: i, victims, violations };
}

/** kube's filterPodsWithPDBViolation: a pod whose eviction would take a matching PDB below zero allowed disruptions. */
function splitByPdb(pods: readonly PlacedPod[], pdbs: readonly PdbView[]): { violating: PlacedPod[]; nonViolating: PlacedPod[] } {
  const allowed = pdbs.map((p) => p.disruptionsAllowed);
  const matchers = pdbs.map((p) => {
    const sel = p.selector;
    const empty = !sel || (Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0);
    return empty ? () => false : compileLabelSelector(sel);
  });
  const violating: PlacedPod[] = [];
  const nonViolating: PlacedPod[] = [];
  for (const p of pods) {
    let violated = false;
    if (Object.keys(p.labels).length > 0) {
      pdbs.forEach((pdb, k) => {
        if (pdb.namespace !== p.namespace || !matchers[k](p.labels)) return;
        if (pdb.disruptedPods?.includes(p.name)) return;
        allowed[k]--;
        if (allowed[k] < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

/** kube-scheduler 1.20's pickOneNodeForPreemption, criteria in order; ties to the first candidate. */
function pickOne(cs: Candidate[]): Candidate {
  const OFFSET = 2 ** 31;
  const keep = (list: Candidate[], key: (c: Candidate) => number): Candidate[] => {
    const best = Math.min(...list.map(key));
    return list.filter((c) => key(c) === best);
  };
  let l = cs.filter((c) => c.victims.length === 0);
  if (l.length) return l[0];
  l = keep(cs, (c) => c.violations);
  l = keep(l, (c) => c.victims[0].priority ?? 0);
  l = keep(l, (c) => c.victims.reduce((s, v) => s + (v.priority ?? 0) + OFFSET, 0));
  l = keep(l, (c) => c.victims.length);
  // the latest start among each candidate's earliest-started highest-priority victims
  l = keep(l, (c) => -Math.min(...c.victims.filter((v) => v.priority === c.victims[0].priority).map((v) => v.startedAtMs ?? 0)));
  return l[0];
}
