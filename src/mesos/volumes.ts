/**
 * Pure arithmetic for dynamic reservations and persistent volumes (Mesos' Resources::pushReservation /
 * popReservation / isPersistentVolume, docs/reservation.md, docs/persistent-volume.md). Resources come out in the
 * refinement format (a `reservations` stack, no `role`/`reservation`), which the master accepts from any framework.
 * Inputs are never modified.
 */
import { allocationRole, isDynamicallyReserved, normalize, reservationRole, reservationStack, roundScalar } from './resources.js';
import type { DiskInfo, ReservationInfo, Resource } from './types.js';

/** `r` in refinement format: the stack only, `role` and `reservation` dropped. */
export function refined(r: Resource): Resource {
  const out: Resource = { ...r };
  const stack = reservationStack(r);
  delete out.role;
  delete out.reservation;
  if (stack.length) out.reservations = stack.map((x) => ({ ...x }));
  else delete out.reservations;
  return out;
}

/** `r` with one more (dynamic) reservation on top of its stack: what a RESERVE operation names. */
export function pushReservation(r: Resource, reservation: Omit<ReservationInfo, 'type'>): Resource {
  const out = refined(r);
  out.reservations = [...(out.reservations ?? []), { type: 'DYNAMIC', ...reservation }];
  return out;
}

/** `r` with its top reservation removed: what an UNRESERVE gives back. */
export function popReservation(r: Resource): Resource {
  const out = refined(r);
  const stack = (out.reservations ?? []).slice(0, -1);
  if (stack.length) out.reservations = stack;
  else delete out.reservations;
  return out;
}

export function isPersistentVolume(r: Resource): boolean {
  return r.name === 'disk' && r.disk?.persistence !== undefined;
}

export function persistentVolumes(rs: readonly Resource[]): Resource[] {
  return rs.filter(isPersistentVolume);
}

/** The volume with this persistence id among `rs`, if any. */
export function findVolume(rs: readonly Resource[], persistenceId: string): Resource | undefined {
  return rs.find((r) => isPersistentVolume(r) && r.disk!.persistence!.id === persistenceId);
}

/** A persistent volume made of reserved disk `r` (CREATE's argument); `r` keeps its reservation and disk source. */
export function asVolume(r: Resource, v: { id: string; principal?: string; containerPath: string }): Resource {
  const out = refined(r);
  const disk: DiskInfo = {
    persistence: v.principal === undefined ? { id: v.id } : { id: v.id, principal: v.principal },
    volume: { mode: 'RW', container_path: v.containerPath },
  };
  if (r.disk?.source) disk.source = r.disk.source;
  out.disk = disk;
  return out;
}

/** The disk a volume is made of (what DESTROY gives back): persistence and volume removed, source kept. */
export function withoutVolume(r: Resource): Resource {
  const out = refined(r);
  if (r.disk?.source) out.disk = { source: r.disk.source };
  else delete out.disk;
  return out;
}

/** The labels of the top reservation, as a record. */
export function reservationLabels(r: Resource): Record<string, string> {
  const stack = reservationStack(r);
  const top = stack[stack.length - 1];
  return Object.fromEntries((top?.labels?.labels ?? []).map((l) => [l.key, l.value ?? '']));
}

/** Dynamically reserved resources whose top reservation carries label `key` = `value`. */
export function reservedWithLabel(rs: readonly Resource[], key: string, value: string): Resource[] {
  return rs.filter((r) => isDynamicallyReserved(r) && reservationLabels(r)[key] === value);
}

export interface VolumeRequest {
  /** The role to reserve for; the offered disk must be allocated to it (or carry no allocation role). */
  role: string;
  principal?: string;
  /** Labels of the reservation (they name the claim). */
  labels: Record<string, string>;
  /** Size in MB (Mesos' disk unit). */
  diskMb: number;
  persistenceId: string;
  containerPath: string;
}

export type VolumePlan =
  | { ok: true; reserve: Resource[]; volume: Resource; remaining: Resource[] }
  | { ok: false; reason: string };

/**
 * RESERVE + CREATE for a new volume out of offered resources: the disk is taken from plain (no disk info, not
 * revocable, not shared) unreserved disk allocated to `role`. `remaining` is what the offer still holds afterwards,
 * the volume included, so a LAUNCH in the same ACCEPT can use it.
 */
export function planVolume(offered: readonly Resource[], req: VolumeRequest): VolumePlan {
  if (!(req.diskMb > 0)) return { ok: false, reason: `volume size must be positive, got ${req.diskMb} MB` };
  const want = roundScalar(req.diskMb);
  let left = want;
  const source: Resource[] = [];
  const rest: Resource[] = [];
  for (const r of offered) {
    const plain = r.name === 'disk' && r.type === 'SCALAR' && !r.disk && !r.revocable && !r.shared && reservationRole(r) === '*';
    const role = allocationRole(r);
    if (!plain || left <= 0 || (role !== undefined && role !== req.role)) {
      rest.push(r);
      continue;
    }
    const have = r.scalar?.value ?? 0;
    const take = Math.min(have, left);
    left = roundScalar(left - take);
    source.push({ ...r, scalar: { value: roundScalar(take) } });
    if (have > take) rest.push({ ...r, scalar: { value: roundScalar(have - take) } });
  }
  if (left > 0) return { ok: false, reason: `Insufficient disk for the volume: ${want} MB wanted, ${roundScalar(want - left)} MB unreserved disk offered` };
  const labels = Object.entries(req.labels).map(([key, value]) => ({ key, value }));
  const reservation = { role: req.role, ...(req.principal !== undefined ? { principal: req.principal } : {}), ...(labels.length ? { labels: { labels } } : {}) };
  const reserve = normalize(source.map((r) => pushReservation(r, reservation)));
  const volume = asVolume({ ...reserve[0], scalar: { value: want } }, { id: req.persistenceId, principal: req.principal, containerPath: req.containerPath });
  return { ok: true, reserve, volume, remaining: [...rest, volume] };
}
