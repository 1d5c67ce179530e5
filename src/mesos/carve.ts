/**
 * Carving a task's resources out of offers: ports (a count or exact ports) and scalars, one allocation role per task,
 * roles preferred in order — on top of the list arithmetic in resources.ts. Pure.
 */
import { allocationRole, coalesceRanges, fromFixed, isEmptyResource, normalize, rangesOf, rangesOfResource, reservationRole, scalarOf, subtract, toFixed, withValue } from './resources.js';
import type { Resource } from './types.js';

export type PortRequest = number | readonly number[];

export type PortAllocation = { ok: true; resources: Resource[]; ports: number[] } | { ok: false; reason: string };

/**
 * Takes ports from the 'ports' resources, in list order: `count` lowest free ports, or exactly the given ports.
 * The picked Resources keep the role, reservation and allocation of the resource they came from.
 */
export function allocatePorts(resources: readonly Resource[], want: PortRequest, name = 'ports'): PortAllocation {
  const sources = resources.filter((r) => r.name === name && r.type === 'RANGES' && !isEmptyResource(r));
  const picked: Resource[] = [];
  const ports: number[] = [];
  if (typeof want === 'number') {
    if (!Number.isInteger(want) || want < 0) return { ok: false, reason: `invalid port count ${want}` };
    let left = want;
    for (const r of sources) {
      if (left === 0) break;
      const taken: number[] = [];
      for (const rg of coalesceRanges(rangesOfResource(r))) {
        for (let p = rg.begin; p <= rg.end && left > 0; p++, left--) taken.push(p);
        if (left === 0) break;
      }
      if (taken.length > 0) {
        picked.push(withValue(r, { ranges: rangesOf(taken) }));
        ports.push(...taken);
      }
    }
    if (left > 0) return { ok: false, reason: `Insufficient ports: wanted ${want}, ${want - left} free` };
    return { ok: true, resources: picked, ports };
  }
  const wanted = [...want];
  if (new Set(wanted).size !== wanted.length) return { ok: false, reason: `duplicate ports requested: ${wanted.join(', ')}` };
  const byResource = new Map<Resource, number[]>();
  const missing: number[] = [];
  for (const p of wanted) {
    const r = sources.find((s) => rangesOfResource(s).some((x) => p >= x.begin && p <= x.end));
    if (!r) missing.push(p);
    else byResource.set(r, [...(byResource.get(r) ?? []), p]);
  }
  if (missing.length > 0) return { ok: false, reason: `Insufficient ports: ${missing.join(', ')} not free` };
  for (const [r, ps] of byResource) picked.push(withValue(r, { ranges: rangesOf(ps) }));
  return { ok: true, resources: picked, ports: [...wanted].sort((a, b) => a - b) };
}

/** What a task needs. Scalars are in Mesos units (cpus, MB). */
export interface ResourceWants {
  cpus?: number;
  mem?: number;
  disk?: number;
  gpus?: number;
  /** A count of any free ports, or specific host ports. */
  ports?: PortRequest;
  /** Other scalar resources by name. */
  scalars?: Record<string, number>;
}

export type TakeResult =
  | {
      ok: true;
      /** The task's resources, ready for TaskInfo.resources. */
      resources: Resource[];
      /** `available` minus `resources`. */
      remaining: Resource[];
      ports: number[];
      /** The allocation role all taken resources share, if the offers carry one. */
      allocationRole?: string;
    }
  | {
      ok: false;
      /** Resource names that did not fit, e.g. ['cpus', 'ports']. */
      insufficient: string[];
    };

/** Whether a resource may be used by a task limited to `roles` ('*' = unreserved); its rank, lower is preferred. */
function roleRank(r: Resource, roles: readonly string[]): number {
  return roles.indexOf(reservationRole(r));
}

function usable(r: Resource): boolean {
  // Plain resources only: no revocable, shared or persistent/mount disk.
  return !r.revocable && !r.shared && !r.disk;
}

/**
 * Carves a task's Resource list out of the resources of one or several offers (of one agent), using only
 * resources reserved for one of `roles` ('*' = unreserved) and preferring them in that order. All taken
 * resources share one allocation role, as Mesos requires of a task: offers allocated to the earliest role of
 * `roles` are tried first.
 */
export function takeResources(available: readonly Resource[], wanted: ResourceWants, roles: readonly string[]): TakeResult {
  const scalars: [string, number][] = [];
  for (const [name, v] of [
    ['cpus', wanted.cpus],
    ['mem', wanted.mem],
    ['disk', wanted.disk],
    ['gpus', wanted.gpus],
    ...Object.entries(wanted.scalars ?? {}),
  ] as [string, number | undefined][]) {
    if (v !== undefined && toFixed(v) > 0) scalars.push([name, v]);
  }

  const wantsPorts = wanted.ports !== undefined && (typeof wanted.ports === 'number' ? wanted.ports !== 0 : wanted.ports.length > 0);
  if (scalars.length === 0 && !wantsPorts) return { ok: true, resources: [], remaining: normalize(available), ports: [] };

  const groups = new Map<string | undefined, Resource[]>();
  for (const r of available) {
    if (!usable(r) || roleRank(r, roles) < 0) continue;
    const g = allocationRole(r);
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  const order = [...groups.keys()].sort((a, b) => rankOfGroup(a, roles) - rankOfGroup(b, roles));

  let best: string[] | undefined;
  for (const g of order) {
    const pool = [...groups.get(g)!].sort((a, b) => roleRank(a, roles) - roleRank(b, roles));
    const taken: Resource[] = [];
    const insufficient: string[] = [];
    for (const [name, amount] of scalars) {
      let left = toFixed(amount);
      for (const r of pool) {
        if (left <= 0) break;
        if (r.name !== name || r.type !== 'SCALAR') continue;
        const have = toFixed(scalarOf(r));
        const take = Math.min(have, left);
        if (take > 0) {
          taken.push(withValue(r, { scalar: fromFixed(take) }));
          left -= take;
        }
      }
      if (left > 0) insufficient.push(name);
    }
    let ports: number[] = [];
    if (wantsPorts) {
      const pa = allocatePorts(pool, wanted.ports!);
      if (pa.ok) {
        taken.push(...pa.resources);
        ports = pa.ports;
      } else insufficient.push('ports');
    }
    if (insufficient.length === 0) {
      const resources = normalize(taken);
      return { ok: true, resources, remaining: subtract(available, resources), ports, allocationRole: g };
    }
    if (!best || insufficient.length < best.length) best = insufficient;
  }
  return { ok: false, insufficient: best ?? [...scalars.map(([n]) => n), ...(wantsPorts ? ['ports'] : [])] };
}

function rankOfGroup(g: string | undefined, roles: readonly string[]): number {
  if (g === undefined) return 0;
  const i = roles.indexOf(g);
  return i < 0 ? roles.length : i;
}
