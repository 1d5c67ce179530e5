import type { DiskInfo, ReservationInfo, Resource } from './proto-types.js';

/**
 * Pools: the emulator keeps an agent's resources in bags keyed by everything that makes Mesos resources distinct
 * besides their quantity — the reservation stack (type, role, principal, labels) and the disk info (persistence,
 * volume, source). '*' is unreserved, a bare role a static reservation (the keys the allocator always had); anything
 * else is '#' + canonical JSON of the shape, so a dynamic reservation or a persistent volume is a pool of its own.
 */
export interface PoolShape {
  reservations: ReservationInfo[];
  disk?: DiskInfo;
}

const shapes = new Map<string, PoolShape>();

/** The reservation stack of a resource in either format, refinement (`reservations`) or pre-refinement (`role`, `reservation`). */
export function stackOf(r: Resource): ReservationInfo[] {
  if (r.reservations?.length) return r.reservations.map((x) => cleanReservation({ ...x, type: x.type ?? 'DYNAMIC' }));
  if (r.role && r.role !== '*') {
    const dynamic = r.reservation !== undefined;
    return [cleanReservation({ type: dynamic ? 'DYNAMIC' : 'STATIC', role: r.role, principal: r.reservation?.principal, labels: r.reservation?.labels })];
  }
  return [];
}

function cleanReservation(x: ReservationInfo): ReservationInfo {
  const out: ReservationInfo = { type: x.type, role: x.role };
  if (x.principal !== undefined) out.principal = x.principal;
  if (x.labels?.labels?.length) out.labels = { labels: x.labels.labels.map((l) => (l.value === undefined ? { key: l.key } : { key: l.key, value: l.value })) };
  return out;
}

function cleanDisk(d: DiskInfo | undefined): DiskInfo | undefined {
  if (!d) return undefined;
  const out: DiskInfo = {};
  if (d.persistence) out.persistence = d.persistence.principal === undefined ? { id: d.persistence.id } : { id: d.persistence.id, principal: d.persistence.principal };
  if (d.volume) out.volume = { mode: d.volume.mode ?? 'RW', container_path: d.volume.container_path, ...(d.volume.host_path !== undefined ? { host_path: d.volume.host_path } : {}) };
  if (d.source) out.source = d.source;
  return Object.keys(out).length ? out : undefined;
}

export function keyOf(shape: PoolShape): string {
  const { reservations, disk } = shape;
  if (!disk && !reservations.length) return '*';
  const only = reservations[0];
  if (!disk && reservations.length === 1 && only.type === 'STATIC' && only.role && only.principal === undefined && !only.labels) return only.role;
  const key = `#${canonical({ reservations, disk })}`;
  if (!shapes.has(key)) shapes.set(key, { reservations, disk });
  return key;
}

/** The pool a resource belongs to. */
export function poolOf(r: Resource): string {
  return keyOf({ reservations: stackOf(r), disk: cleanDisk(r.disk) });
}

export function shapeOf(pool: string): PoolShape {
  if (pool === '*') return { reservations: [] };
  if (!pool.startsWith('#')) return { reservations: [{ type: 'STATIC', role: pool }] };
  return shapes.get(pool) ?? (JSON.parse(pool.slice(1)) as PoolShape);
}

/** The role a pool is reserved for ('*' = unreserved). */
export function poolRole(pool: string): string {
  const s = shapeOf(pool);
  return s.reservations.length ? (s.reservations[s.reservations.length - 1].role ?? '*') : '*';
}

/** Whether a framework's `role` may be offered this pool: unreserved, or reserved for the role or one of its ancestors. */
export function offerableTo(pool: string, role: string, refinement: boolean): boolean {
  if (pool === '*') return true;
  const s = shapeOf(pool);
  if (s.reservations.length > 1 && !refinement) return false;
  const r = poolRole(pool);
  return r === role || role.startsWith(`${r}/`);
}

/** Mesos' Resource fields of a pool: the stack (and, without refinement, `role`/`reservation`) and the disk info. */
export function decorate(r: Resource, pool: string, refined: boolean): Resource {
  if (pool === '*') {
    if (!refined) r.role = '*';
    return r;
  }
  const s = shapeOf(pool);
  if (s.reservations.length) r.reservations = s.reservations.map((x) => ({ ...x }));
  if (!refined) {
    const top = s.reservations[s.reservations.length - 1];
    r.role = top?.role ?? '*';
    if (top?.type === 'DYNAMIC') r.reservation = { ...(top.principal !== undefined ? { principal: top.principal } : {}), ...(top.labels ? { labels: top.labels } : {}) };
  }
  if (s.disk) r.disk = structuredClone(s.disk);
  return r;
}

/** The pool the resource came from before its last reservation (RESERVE's source, UNRESERVE's result). */
export function poppedPool(r: Resource): string {
  const stack = stackOf(r);
  return keyOf({ reservations: stack.slice(0, -1), disk: cleanDisk(r.disk) });
}

/** The pool of the disk a volume is made of (CREATE's source, DESTROY's result): the same disk without persistence. */
export function diskPool(r: Resource): string {
  const d = cleanDisk(r.disk);
  return keyOf({ reservations: stackOf(r), disk: d?.source ? { source: d.source } : undefined });
}

/** Persistent volumes of a pool: role and persistence id, or undefined. */
export function volumeOf(pool: string): { role: string; id: string; containerPath: string } | undefined {
  if (!pool.startsWith('#')) return undefined;
  const s = shapeOf(pool);
  if (!s.disk?.persistence) return undefined;
  return { role: poolRole(pool), id: s.disk.persistence.id, containerPath: s.disk.volume?.container_path ?? '' };
}

/** A short human form for error messages, like Mesos' stringify(Resource): `disk(reserved: web, alice):100`. */
export function describe(r: Resource): string {
  const stack = stackOf(r);
  const top = stack[stack.length - 1];
  const where = top ? `(reserved: ${top.role}${top.principal ? `, ${top.principal}` : ''})` : '';
  const vol = r.disk?.persistence ? `[${r.disk.persistence.id}:${r.disk.volume?.container_path ?? ''}]` : '';
  const value = r.scalar ? String(r.scalar.value) : r.ranges ? `[${(r.ranges.range ?? []).map((x) => `${x.begin}-${x.end}`).join(', ')}]` : `{${(r.set?.item ?? []).join(', ')}}`;
  return `${r.name}${where}${vol}:${value}`;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
