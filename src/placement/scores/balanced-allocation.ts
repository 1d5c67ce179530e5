import { need } from '../filters/fit.js';
import type { ScorePlugin } from '../framework.js';
import type { CycleState, WAgent } from '../state.js';

/**
 * kube-scheduler 1.20's NodeResourcesBalancedAllocation: (1 − |cpu fraction − memory fraction|) · 100 after the pod,
 * 0 when either fraction reaches 1. The fractions are of what the agent holds for kube-mesos: the Node's `capacity`
 * when the snapshot gives it, else what is offered plus what kube-mesos' pods there requested (Mesos shows a framework
 * its offers, not the agent's size).
 */
export const balancedAllocationScore: ScorePlugin<Float64Array> = {
  name: 'NodeResourcesBalancedAllocation',
  normalize: 'none',
  prepare: (_pod, st) => ({ data: capacities(st), weight: 1 }),
  score: (cap, a, pod, st) => balancedScore(cap, a, need(pod, a, st)),
  scoreFree: (cap, i, need) => {
    need.out[0] = balancedFree(cap, i, need.free.cpus[i], need.free.mem[i], need.take[0], need.take[1]);
  },
};

/** The score for an agent, given what the pod takes there; `cap` from capacities(). Exported for the fused resources score. */
export function balancedScore(cap: Float64Array, a: WAgent, n: { cpus: number; mem: number }): number {
  let cpus = 0;
  let mem = 0;
  const slots = a.slots;
  for (let k = 0; k < slots.length; k++) {
    cpus += slots[k].cpus;
    mem += slots[k].mem;
  }
  return balancedFree(cap, a.idx, cpus, mem, n.cpus, n.mem);
}

/** balancedScore() of agent `idx` whose working copy has `cpus` and `mem` free, for a pod taking needCpus, needMem. */
export function balancedFree(cap: Float64Array, idx: number, cpus: number, mem: number, needCpus: number, needMem: number): number {
  const i = idx * 2;
  const c = cap[i];
  const m = cap[i + 1];
  const fc = c > 0 ? (c - cpus + needCpus) / c : 1;
  const fm = m > 0 ? (m - mem + needMem) / m : 1;
  if (fc >= 1 || fm >= 1) return 0;
  return (1 - Math.abs(fc - fm)) * 100;
}

/**
 * Per agent [cpus, mem] capacity as the views give it at the start of the plan (AgentTable.capacity: kept with the
 * working copy, made when an agent arrives or its view changes): free resources change as pods are placed, capacity does not.
 */
export function capacities(st: CycleState): Float64Array {
  return st.table.capacity;
}
