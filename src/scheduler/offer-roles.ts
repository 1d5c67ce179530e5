/**
 * One ACCEPT may aggregate offers of one agent allocated to one role only (Mesos' master validation: "Aggregated offers
 * must be allocated to the same role"; the master drops the whole ACCEPT otherwise, its launches TASK_DROPPED). A
 * MULTI_ROLE framework may hold offers of one agent for several of its roles at once (`mesos.roles: kube-mesos,*`: the
 * allocator offers what an agent has to one role, and what comes back later to another). Placement, launches and reclaims
 * use the agent's offers of one role; the others stay held (declined at the end of the hold, the master then offers the
 * agent to one role again). Pure.
 */
import type { Offer } from '../mesos/types.js';

const roleOf = (o: Offer): string => o.allocation_info?.role ?? '';

/**
 * The agent's offers that one ACCEPT may use: all of them when they share a role (the usual case: returned as given),
 * else the role's whose offers carry persistent volumes (pods wait for those; reclaim needs them), then the one with
 * the most cpus, mem, then role name.
 */
export function offersOfOneRole(offers: readonly Offer[]): readonly Offer[] {
  if (offers.length < 2) return offers;
  const first = roleOf(offers[0]);
  if (offers.every((o) => roleOf(o) === first)) return offers;
  let best: { role: string; offers: Offer[]; volumes: boolean; cpus: number; mem: number } | undefined;
  for (const list of offersByRole(offers)) {
    const role = roleOf(list[0]);
    let volumes = false;
    let cpus = 0;
    let mem = 0;
    for (const o of list)
      for (const r of o.resources ?? []) {
        if (r.disk?.persistence) volumes = true;
        else if (r.name === 'cpus') cpus += r.scalar?.value ?? 0;
        else if (r.name === 'mem') mem += r.scalar?.value ?? 0;
      }
    const c = { role, offers: list, volumes, cpus, mem };
    if (!best || better(c, best)) best = c;
  }
  return best!.offers;
}

/** Offers grouped by the role they were allocated to (one ACCEPT each). */
export function offersByRole(offers: readonly Offer[]): Offer[][] {
  const groups = new Map<string, Offer[]>();
  for (const o of offers) {
    const list = groups.get(roleOf(o));
    if (list) list.push(o);
    else groups.set(roleOf(o), [o]);
  }
  return [...groups.values()];
}

function better(a: { role: string; volumes: boolean; cpus: number; mem: number }, b: { role: string; volumes: boolean; cpus: number; mem: number }): boolean {
  if (a.volumes !== b.volumes) return a.volumes;
  if (a.cpus !== b.cpus) return a.cpus > b.cpus;
  if (a.mem !== b.mem) return a.mem > b.mem;
  return a.role < b.role;
}
