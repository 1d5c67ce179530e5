/**
 * The Mesos side of a pod's claims, pure: the RESERVE + CREATE of new volumes and the volumes a task takes (launch), and
 * the DESTROY + UNRESERVE of volumes whose PersistentVolume is gone or released with reclaim policy Delete (reclaim).
 * Inputs are never modified.
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import { allocationRole, isDynamicallyReserved, reservationRole } from '../mesos/resources.js';
import type { Offer, OfferOperation, Resource } from '../mesos/types.js';
import { findVolume, isPersistentVolume, planVolume, reservationLabels, withoutVolume } from '../mesos/volumes.js';
import { LABEL_CLAIM_UID } from '../names.js';
import type { PodClaimView } from '../placement/types.js';
import { persistenceIdOf, storageMbOf } from './claims.js';

/** Label of a reservation naming the claim it was made for, `<namespace>/<name>` (LABEL_CLAIM_UID holds its uid). */
export const LABEL_CLAIM = 'kube-mesos.io/claim';

/** Where a Mesos volume lives on its agent: `<agent work dir>/volumes/roles/<role>/<persistence id>` (Mesos' layout). */
export function volumeHostPath(agentWorkDir: string, agentId: string, role: string, persistenceId: string): string {
  return `${agentWorkDir.replaceAll('{agentId}', agentId).replace(/\/+$/, '')}/volumes/roles/${role.replaceAll('/', ' ')}/${persistenceId}`;
}

/** The path a volume is mounted at inside the executor's sandbox. */
export function volumeContainerPath(persistenceId: string): string {
  return `volumes/${persistenceId}`;
}

/** A new volume to be made for a claim in this ACCEPT, and what its PersistentVolume needs. */
export interface NewVolume {
  claim: V1PersistentVolumeClaim;
  persistenceId: string;
  role: string;
  sizeMb: number;
}

export type PodVolumes =
  | { ok: true; operations: OfferOperation[]; taskVolumes: Resource[]; remaining: Resource[]; created: NewVolume[] }
  | { ok: false; reason: string };

/**
 * The operations that give a pod its Mesos volumes out of one agent's remaining offered resources: RESERVE + CREATE for
 * each claim still to provision (disk allocated to `role`), and the offered volume of each claim bound to a Mesos volume.
 * `taskVolumes` go into the pod's TaskInfo; `remaining` is what is left for the pod's own resources and other pods.
 */
export function podVolumes(a: {
  pod: V1Pod;
  claims: readonly PodClaimView[];
  claim: (namespace: string, name: string) => V1PersistentVolumeClaim | undefined;
  remaining: readonly Resource[];
  /** The role volumes are reserved for: the placement's allocation role. */
  role: string | undefined;
  principal?: string;
}): PodVolumes {
  const ns = a.pod.metadata?.namespace ?? 'default';
  let remaining = [...a.remaining];
  const operations: OfferOperation[] = [];
  const taskVolumes: Resource[] = [];
  const created: NewVolume[] = [];
  for (const c of a.claims) {
    if (c.phase === 'bound' && c.mesos) {
      const v = findVolume(remaining, c.mesos.persistenceId);
      if (!v) return { ok: false, reason: `the Mesos volume ${c.mesos.persistenceId} of claim ${c.name} is not in the offers` };
      remaining = remaining.filter((r) => r !== v);
      taskVolumes.push(v);
      continue;
    }
    if (c.phase !== 'provision') continue;
    const claim = a.claim(ns, c.name);
    const uid = claim?.metadata?.uid;
    if (!claim || !uid) return { ok: false, reason: `persistentvolumeclaim "${c.name}" not found` };
    if (!a.role || a.role === '*') return { ok: false, reason: 'a Mesos volume needs a framework role other than "*" (mesos.roles)' };
    const sizeMb = storageMbOf(claim) ?? 0;
    const persistenceId = persistenceIdOf(uid);
    const plan = planVolume(remaining, {
      role: a.role,
      principal: a.principal,
      labels: { [LABEL_CLAIM_UID]: uid, [LABEL_CLAIM]: `${ns}/${c.name}` },
      diskMb: sizeMb,
      persistenceId,
      containerPath: volumeContainerPath(persistenceId),
    });
    if (!plan.ok) return { ok: false, reason: `claim ${c.name}: ${plan.reason}` };
    operations.push({ type: 'RESERVE', reserve: { resources: plan.reserve } }, { type: 'CREATE', create: { volumes: [plan.volume] } });
    remaining = plan.remaining.filter((r) => r !== plan.volume);
    taskVolumes.push(plan.volume);
    created.push({ claim, persistenceId, role: a.role, sizeMb });
  }
  return { ok: true, operations, taskVolumes, remaining, created };
}

/** The allocation role of the plain disk a new volume would be carved from (single-role frameworks: the role). */
export function volumeRoleOf(offered: readonly Resource[], placementRole: string): string | undefined {
  if (placementRole !== '*') return placementRole;
  const disk = offered.find((r) => r.name === 'disk' && !r.disk && reservationRole(r) === '*' && allocationRole(r) !== undefined && allocationRole(r) !== '*');
  return disk ? allocationRole(disk) : undefined;
}

export interface ReclaimLookups {
  /** The PersistentVolume written for this persistence id, if it exists. */
  volumeByPersistenceId(persistenceId: string): V1PersistentVolume | undefined;
  /** A volume being made right now (its ACCEPT sent, its PersistentVolume not seen yet): never reclaimed. */
  inFlight(persistenceId: string): boolean;
}

export interface Reclaim {
  operations: OfferOperation[];
  /** Persistence ids destroyed or unreserved, for logs and events. */
  persistenceIds: string[];
  /** PersistentVolumes to delete once the ACCEPT is through (released with reclaim policy Delete). */
  deleteVolumes: V1PersistentVolume[];
}

/** A PersistentVolume whose Mesos volume is to go: being deleted, or released (claim deleted) with reclaim policy Delete. */
export function volumeReleasedForDelete(pv: V1PersistentVolume): boolean {
  if (pv.metadata?.deletionTimestamp) return true;
  const phase = pv.status?.phase;
  return (pv.spec?.persistentVolumeReclaimPolicy ?? 'Delete') === 'Delete' && (phase === 'Released' || phase === 'Failed');
}

/** True when the offer carries a disk reservation made for a claim (what `reclaimOperations` looks at). */
export function carriesClaimReservation(offer: Offer): boolean {
  for (const r of offer.resources ?? []) if (r.name === 'disk' && isDynamicallyReserved(r) && reservationLabels(r)[LABEL_CLAIM_UID]) return true;
  return false;
}

/**
 * What to give back of one agent's offers: each reservation kube-mesos made for a claim (label LABEL_CLAIM_UID) whose
 * PersistentVolume does not exist or is released for deletion — DESTROY the volume (if it was created), then UNRESERVE
 * its disk. Reservations of a Retain volume, and of volumes still being made, are kept.
 */
export function reclaimOperations(offers: readonly Offer[], look: ReclaimLookups): Reclaim {
  const out: Reclaim = { operations: [], persistenceIds: [], deleteVolumes: [] };
  for (const o of offers) {
    for (const r of o.resources ?? []) {
      if (r.name !== 'disk' || !isDynamicallyReserved(r)) continue;
      const uid = reservationLabels(r)[LABEL_CLAIM_UID];
      if (!uid) continue;
      const pid = isPersistentVolume(r) ? r.disk!.persistence!.id : persistenceIdOf(uid);
      if (look.inFlight(pid)) continue;
      const pv = look.volumeByPersistenceId(pid);
      if (pv && !volumeReleasedForDelete(pv)) continue;
      if (isPersistentVolume(r)) out.operations.push({ type: 'DESTROY', destroy: { volumes: [r] } });
      out.operations.push({ type: 'UNRESERVE', unreserve: { resources: [isPersistentVolume(r) ? withoutVolume(r) : r] } });
      if (!out.persistenceIds.includes(pid)) out.persistenceIds.push(pid);
      if (pv && !pv.metadata?.deletionTimestamp && !out.deleteVolumes.includes(pv)) out.deleteVolumes.push(pv);
    }
  }
  return out;
}
