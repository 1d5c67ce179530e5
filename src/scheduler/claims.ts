/**
 * PersistentVolumeClaims as placement sees them, and the PersistentVolume kube-mesos writes for a Mesos volume. Pure:
 * the Kubernetes objects come in through lookups, values go out.
 */
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1StorageClass } from '@kubernetes/client-node';
import { ANNOTATION_PERSISTENCE_ID, ANNOTATION_VOLUME_AGENT, LABEL_CLAIM_UID, PROVISIONER_MESOS_VOLUME } from '../names.js';
import { parseQuantity } from '../placement/quantity.js';
import type { PodClaimView } from '../placement/types.js';

export interface ClaimLookups {
  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined;
  volume(name: string): V1PersistentVolume | undefined;
  storageClass(name: string): V1StorageClass | undefined;
}

/** The storage objects the core reads (kube/storage-informer.ts): lookups, the PV index by persistence id, sync. */
export interface StorageView extends ClaimLookups {
  volumeByPersistenceId(persistenceId: string): V1PersistentVolume | undefined;
  /** Every PersistentVolume written for a Mesos volume. */
  mesosVolumes(): Iterable<V1PersistentVolume>;
  hasSynced(): boolean;
}

/** True when the pod mounts a PersistentVolumeClaim (directly or through an ephemeral volume). */
export function mountsClaims(pod: V1Pod): boolean {
  return (pod.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim || v.ephemeral);
}

const MB = 1024 * 1024;

/** The persistence id of the Mesos volume made for a claim: stable, unique per claim, valid in a path. */
export function persistenceIdOf(claimUid: string): string {
  return `kube-mesos-${claimUid.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
}

/** A claim's storage request in MB (Mesos' disk unit), rounded up; undefined when absent or not a quantity. */
export function storageMbOf(claim: V1PersistentVolumeClaim): number | undefined {
  const q = claim.spec?.resources?.requests?.storage;
  const bytes = q === undefined ? undefined : parseQuantity(String(q));
  return bytes === undefined || !(bytes >= 0) ? undefined : Math.ceil(bytes / MB);
}

/** The pod's claims (spec.volumes[].persistentVolumeClaim, and ephemeral volumes' `<pod>-<volume>` claims). */
export function claimViews(pod: V1Pod, look: ClaimLookups): PodClaimView[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const out: PodClaimView[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    const name = v.persistentVolumeClaim?.claimName ?? (v.ephemeral ? `${pod.metadata?.name ?? ''}-${v.name}` : undefined);
    if (!name) continue;
    out.push(claimView(name, look.claim(ns, name), look));
  }
  return out;
}

export function claimView(name: string, claim: V1PersistentVolumeClaim | undefined, look: ClaimLookups): PodClaimView {
  if (!claim || claim.metadata?.deletionTimestamp) return { name, phase: 'missing' };
  const pvName = claim.spec?.volumeName;
  if (pvName) {
    const pv = look.volume(pvName);
    // Bound by name but the PV is not in the cache yet: kube-scheduler treats it as not found, so the pod waits.
    if (!pv) return { name, phase: 'missing' };
    const view: PodClaimView = { name, phase: 'bound' };
    const affinity = pv.spec?.nodeAffinity?.required;
    if (affinity) view.nodeAffinity = affinity;
    const agentId = pv.metadata?.annotations?.[ANNOTATION_VOLUME_AGENT];
    const persistenceId = pv.metadata?.annotations?.[ANNOTATION_PERSISTENCE_ID];
    if (agentId && persistenceId) view.mesos = { agentId, persistenceId };
    return view;
  }
  const sc = claim.spec?.storageClassName ? look.storageClass(claim.spec.storageClassName) : undefined;
  if (sc?.provisioner === PROVISIONER_MESOS_VOLUME) return { name, phase: 'provision', storageMb: storageMbOf(claim) ?? 0 };
  // Other WaitForFirstConsumer classes are provisioned after binding and do not restrict placement; Immediate waits.
  if (sc?.volumeBindingMode === 'WaitForFirstConsumer') return { name, phase: 'bound' };
  return { name, phase: 'unbound' };
}

/**
 * The PersistentVolume for a Mesos volume made for `claim` on an agent: a local volume at `path` with node affinity to
 * the agent's Node, pre-bound to the claim (claimRef), reclaim policy from the class (default Delete).
 */
export function mesosPersistentVolume(a: {
  claim: V1PersistentVolumeClaim;
  storageClass: V1StorageClass;
  agentId: string;
  nodeName: string;
  path: string;
  sizeMb: number;
}): V1PersistentVolume {
  const uid = a.claim.metadata?.uid ?? '';
  const pid = persistenceIdOf(uid);
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${uid}`,
      labels: { [LABEL_CLAIM_UID]: uid },
      annotations: { [ANNOTATION_VOLUME_AGENT]: a.agentId, [ANNOTATION_PERSISTENCE_ID]: pid, 'pv.kubernetes.io/provisioned-by': PROVISIONER_MESOS_VOLUME },
    },
    spec: {
      capacity: { storage: `${a.sizeMb}Mi` },
      accessModes: a.claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: a.storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: a.storageClass.metadata?.name,
      volumeMode: 'Filesystem',
      local: { path: a.path },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: a.claim.metadata?.namespace, name: a.claim.metadata?.name, uid },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [a.nodeName] }] }] } },
    },
  };
}
