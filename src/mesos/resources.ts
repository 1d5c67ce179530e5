/**
 * Pure arithmetic on Mesos resource lists, following Mesos' own semantics (src/common/resources.cpp, mesos-go
 * resources.go): resources with the same identity (name, type, reservation, allocation, disk, revocable, shared,
 * provider) add up; scalars use Mesos' fixed point (three decimals); ranges merge and split; sets union and
 * difference. Inputs are never modified; every function returns new objects.
 */
import type { Range, ReservationInfo, Resource } from './types.js';

// ---------------------------------------------------------------- scalars (fixed point)

/** Mesos keeps scalars as integers of 1/1000 (Value::Scalar, fixed point with three decimals). */
export const SCALAR_PRECISION = 1000;

/** @internal for carve.ts */
export function toFixed(v: number): number {
  return v < 0 ? -Math.round(-v * SCALAR_PRECISION) : Math.round(v * SCALAR_PRECISION);
}

/** @internal for carve.ts */
export function fromFixed(f: number): number {
  return f / SCALAR_PRECISION;
}

/** Rounds a scalar the way Mesos stores it (to three decimals, halves away from zero). */
export function roundScalar(v: number): number {
  return Number.isFinite(v) ? fromFixed(toFixed(v)) : v;
}

// ---------------------------------------------------------------- ranges

/** Sorted, non-overlapping, non-adjacent copies of `ranges` ([1-2],[3-5] becomes [1-5]). */
export function coalesceRanges(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter((r) => r.end >= r.begin).map((r) => ({ begin: r.begin, end: r.end }));
  sorted.sort((a, b) => a.begin - b.begin);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push(r);
  }
  return out;
}

/** `a` minus `b`, coalesced. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  let cur = coalesceRanges(a);
  for (const cut of coalesceRanges(b)) {
    const next: Range[] = [];
    for (const r of cur) {
      if (cut.end < r.begin || cut.begin > r.end) {
        next.push(r);
        continue;
      }
      if (r.begin < cut.begin) next.push({ begin: r.begin, end: cut.begin - 1 });
      if (r.end > cut.end) next.push({ begin: cut.end + 1, end: r.end });
    }
    cur = next;
  }
  return cur;
}

/** True when every number of `b` lies in `a`. */
export function rangesContain(a: readonly Range[], b: readonly Range[]): boolean {
  return subtractRanges(b, a).length === 0;
}

/** How many numbers the ranges hold. */
export function rangesSize(ranges: readonly Range[]): number {
  return coalesceRanges(ranges).reduce((n, r) => n + (r.end - r.begin + 1), 0);
}

/** Coalesced ranges holding exactly `numbers`. */
export function rangesOf(numbers: readonly number[]): Range[] {
  return coalesceRanges(numbers.map((n) => ({ begin: n, end: n })));
}

// ---------------------------------------------------------------- identity and roles

/** The reservation stack in refinement format, whichever format the resource uses. Empty = unreserved. */
export function reservationStack(r: Resource): ReservationInfo[] {
  if (r.reservations && r.reservations.length > 0) return r.reservations;
  if (r.role !== undefined && r.role !== '*') {
    const type = r.reservation ? 'DYNAMIC' : 'STATIC';
    return [{ type, role: r.role, principal: r.reservation?.principal, labels: r.reservation?.labels }];
  }
  return [];
}

/** The role a resource is reserved for, or '*' when unreserved. */
export function reservationRole(r: Resource): string {
  const stack = reservationStack(r);
  return stack.length > 0 ? (stack[stack.length - 1]!.role ?? '*') : '*';
}

export function isUnreserved(r: Resource): boolean {
  return reservationStack(r).length === 0;
}

/** Reserved at all, or (with `role`) reserved for exactly that role. */
export function isReserved(r: Resource, role?: string): boolean {
  return !isUnreserved(r) && (role === undefined || reservationRole(r) === role);
}

export function isDynamicallyReserved(r: Resource): boolean {
  const stack = reservationStack(r);
  return stack.length > 0 && stack[stack.length - 1]!.type === 'DYNAMIC';
}

/** The role an offered resource is allocated to (MULTI_ROLE), if any. */
export function allocationRole(r: Resource): string | undefined {
  return r.allocation_info?.role;
}

function canonicalReservation(ri: ReservationInfo): unknown {
  return [ri.type ?? 'UNKNOWN', ri.role ?? '', ri.principal ?? '', (ri.labels?.labels ?? []).map((l) => [l.key, l.value ?? ''])];
}

/**
 * Everything that identifies a resource except its value: two resources with equal keys add up.
 * Persistent volumes and shared resources never merge (Mesos treats each as its own entity).
 */
export function resourceKey(r: Resource): string {
  return JSON.stringify([
    r.name,
    r.type,
    reservationStack(r).map(canonicalReservation),
    r.allocation_info?.role ?? null,
    canonicalDisk(r.disk),
    r.revocable ? 1 : 0,
    r.shared ? 1 : 0,
    r.provider_id?.value ?? null,
  ]);
}

/** DiskInfo identity, independent of the order its fields were decoded in (protobuf vs JSON). */
function canonicalDisk(d: Resource['disk']): unknown {
  if (!d) return null;
  const v = d.volume;
  const src = d.source;
  return [d.persistence?.id ?? null, d.persistence?.principal ?? null, v ? [v.mode ?? 'RW', v.container_path, v.host_path ?? null] : null, src ? [src.type, src.path?.root ?? null, src.mount?.root ?? null] : null];
}

function isUnique(r: Resource): boolean {
  return r.disk?.persistence !== undefined || r.shared !== undefined;
}

// ---------------------------------------------------------------- values

/** A copy of `r` with its value replaced (identity fields kept, shared nested objects reused). */
/** @internal for carve.ts */
export function withValue(r: Resource, v: { scalar?: number; ranges?: Range[]; set?: string[] }): Resource {
  const out: Resource = { ...r };
  delete out.scalar;
  delete out.ranges;
  delete out.set;
  if (v.scalar !== undefined) out.scalar = { value: v.scalar };
  if (v.ranges !== undefined) out.ranges = { range: v.ranges };
  if (v.set !== undefined) out.set = { item: v.set };
  return out;
}

/** @internal for carve.ts */
export function scalarOf(r: Resource): number {
  return r.scalar?.value ?? 0;
}
/** @internal for carve.ts */
export function rangesOfResource(r: Resource): Range[] {
  return r.ranges?.range ?? [];
}
function setOf(r: Resource): string[] {
  return r.set?.item ?? [];
}

/** True when the resource holds nothing (zero scalar, no ranges, empty set). */
export function isEmptyResource(r: Resource): boolean {
  switch (r.type) {
    case 'SCALAR':
      return toFixed(scalarOf(r)) <= 0;
    case 'RANGES':
      return rangesOfResource(r).every((x) => x.end < x.begin);
    case 'SET':
      return setOf(r).length === 0;
    default:
      return true;
  }
}

export function isEmpty(resources: readonly Resource[]): boolean {
  return resources.every(isEmptyResource);
}

function addValues(a: Resource, b: Resource): Resource {
  switch (a.type) {
    case 'SCALAR':
      return withValue(a, { scalar: fromFixed(toFixed(scalarOf(a)) + toFixed(scalarOf(b))) });
    case 'RANGES':
      return withValue(a, { ranges: coalesceRanges([...rangesOfResource(a), ...rangesOfResource(b)]) });
    case 'SET':
      return withValue(a, { set: [...new Set([...setOf(a), ...setOf(b)])] });
    default:
      return a;
  }
}

function subtractValues(a: Resource, b: Resource): Resource {
  switch (a.type) {
    case 'SCALAR':
      return withValue(a, { scalar: fromFixed(Math.max(0, toFixed(scalarOf(a)) - toFixed(scalarOf(b)))) });
    case 'RANGES':
      return withValue(a, { ranges: subtractRanges(rangesOfResource(a), rangesOfResource(b)) });
    case 'SET': {
      const drop = new Set(setOf(b));
      return withValue(a, { set: setOf(a).filter((x) => !drop.has(x)) });
    }
    default:
      return a;
  }
}

function containsValue(a: Resource, b: Resource): boolean {
  switch (a.type) {
    case 'SCALAR':
      return toFixed(scalarOf(b)) <= toFixed(scalarOf(a));
    case 'RANGES':
      return rangesContain(rangesOfResource(a), rangesOfResource(b));
    case 'SET': {
      const have = new Set(setOf(a));
      return setOf(b).every((x) => have.has(x));
    }
    default:
      return false;
  }
}

function sameResource(a: Resource, b: Resource): boolean {
  return resourceKey(a) === resourceKey(b) && containsValue(a, b) && containsValue(b, a);
}

// ---------------------------------------------------------------- list arithmetic

/** Merges addable entries, rounds scalars and drops empty ones. Order: first appearance. */
export function normalize(resources: readonly Resource[]): Resource[] {
  return add([], resources);
}

/** `a + b`. */
export function add(a: readonly Resource[], b: readonly Resource[] | Resource): Resource[] {
  const out: Resource[] = [];
  const index = new Map<string, number>();
  const push = (r: Resource): void => {
    if (isEmptyResource(r)) return;
    if (isUnique(r)) {
      out.push(r);
      return;
    }
    const k = resourceKey(r);
    const at = index.get(k);
    if (at === undefined) {
      index.set(k, out.length);
      out.push(r.type === 'SCALAR' ? withValue(r, { scalar: roundScalar(scalarOf(r)) }) : r.type === 'RANGES' ? withValue(r, { ranges: coalesceRanges(rangesOfResource(r)) }) : r);
    } else {
      out[at] = addValues(out[at]!, r);
    }
  };
  for (const r of a) push(r);
  for (const r of Array.isArray(b) ? b : [b as Resource]) push(r);
  return out;
}

/** `a - b`. Like Mesos, subtracting more than there is leaves nothing (never a negative amount). */
export function subtract(a: readonly Resource[], b: readonly Resource[] | Resource): Resource[] {
  let out = normalize(a);
  for (const r of Array.isArray(b) ? b : [b as Resource]) {
    if (isEmptyResource(r)) continue;
    const k = resourceKey(r);
    const i = out.findIndex((x) => resourceKey(x) === k && (!isUnique(x) || sameResource(x, r)));
    if (i < 0) continue;
    const left = isUnique(out[i]!) ? undefined : subtractValues(out[i]!, r);
    out = [...out.slice(0, i), ...(left && !isEmptyResource(left) ? [left] : []), ...out.slice(i + 1)];
  }
  return out;
}

/** True when `a` holds everything in `b` (same identities, at least the amounts). */
export function contains(a: readonly Resource[], b: readonly Resource[] | Resource): boolean {
  let rest = normalize(a);
  for (const r of normalize(Array.isArray(b) ? b : [b as Resource])) {
    const k = resourceKey(r);
    const x = rest.find((y) => resourceKey(y) === k && (isUnique(y) ? sameResource(y, r) : containsValue(y, r)));
    if (!x) return false;
    rest = subtract(rest, r);
  }
  return true;
}

/** Total scalar amount of resources named `name`, across roles. */
export function scalar(resources: readonly Resource[], name: string): number {
  let f = 0;
  for (const r of resources) if (r.name === name && r.type === 'SCALAR') f += toFixed(scalarOf(r));
  return fromFixed(f);
}

/** All ranges of resources named `name` (e.g. 'ports'), coalesced, across roles. */
export function ranges(resources: readonly Resource[], name: string): Range[] {
  return coalesceRanges(resources.filter((r) => r.name === name && r.type === 'RANGES').flatMap(rangesOfResource));
}

/** All set items of resources named `name`, across roles. */
export function setItems(resources: readonly Resource[], name: string): string[] {
  return [...new Set(resources.filter((r) => r.name === name && r.type === 'SET').flatMap(setOf))];
}

/** Groups by role: the allocation role when set (offers to MULTI_ROLE frameworks), else the reservation role ('*' unreserved). */
export function byRole(resources: readonly Resource[]): Map<string, Resource[]> {
  const out = new Map<string, Resource[]>();
  for (const r of resources) {
    const role = allocationRole(r) ?? reservationRole(r);
    const list = out.get(role);
    if (list) list.push(r);
    else out.set(role, [r]);
  }
  for (const [role, list] of out) out.set(role, normalize(list));
  return out;
}

/** Resources reserved for `role` (or unreserved, with '*'). */
export function reservedFor(resources: readonly Resource[], role: string): Resource[] {
  return resources.filter((r) => reservationRole(r) === role);
}

/** Resources allocated to `role`. */
export function allocatedTo(resources: readonly Resource[], role: string): Resource[] {
  return resources.filter((r) => allocationRole(r) === role);
}

/**
 * The same quantities with roles, reservations and allocation stripped (Mesos' `flatten()`/`toUnreserved()` +
 * `unallocated()`), merged: for comparing amounts regardless of who may use them.
 */
export function flatten(resources: readonly Resource[]): Resource[] {
  return normalize(
    resources.map((r) => {
      const out: Resource = { ...r };
      delete out.role;
      delete out.reservation;
      delete out.reservations;
      delete out.allocation_info;
      return out;
    }),
  );
}

/** Renders resources like Mesos logs them: `cpus(prod):2; mem(*):1024; ports(*):[31000-32000]`. */
export function formatResources(resources: readonly Resource[]): string {
  return resources
    .map((r) => {
      const role = reservationRole(r);
      const value =
        r.type === 'SCALAR'
          ? String(roundScalar(scalarOf(r)))
          : r.type === 'RANGES'
            ? `[${rangesOfResource(r).map((x) => `${x.begin}-${x.end}`).join(', ')}]`
            : r.type === 'SET'
              ? `{${setOf(r).join(', ')}}`
              : '?';
      return `${r.name}(${role}${r.allocation_info?.role ? `, allocated: ${r.allocation_info.role}` : ''}):${value}`;
    })
    .join('; ');
}
