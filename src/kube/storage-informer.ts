// PersistentVolumeClaims (all namespaces), PersistentVolumes and StorageClasses, for placement's VolumeBinding and the
// Mesos volumes kube-mesos provisions (docs/stateful.md). Indexed by what the scheduler asks: a claim by namespace/name,
// a volume by name and by the persistence id of its Mesos volume. Objects are the informers' own: never mutated.
import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import { ANNOTATION_PERSISTENCE_ID } from '../names.js';
import { KubeHttp } from './http.js';
import { httpListWatch, objectKey, ResilientInformer, type InformerOptions, type KubeObject } from './informer.js';

/** The part of an informer the index needs; ResilientInformer fits. */
export interface StorageInformerLike<T> {
  on(event: 'add' | 'update' | 'delete', h: (obj: T, old?: T) => void): unknown;
  start(): void;
  stop(): Promise<void>;
  readonly ready: Promise<void>;
  hasSynced(): boolean;
}

export interface StorageInformers {
  claims: StorageInformerLike<V1PersistentVolumeClaim>;
  volumes: StorageInformerLike<V1PersistentVolume>;
  classes: StorageInformerLike<V1StorageClass>;
}

export type StorageChange = { kind: 'claim'; key: string } | { kind: 'volume'; key: string } | { kind: 'class'; key: string };

/** What a claim's, a volume's or a class's change can alter for placement, as text: equal signatures, same placement. */
function signature(kind: StorageChange['kind'], o: KubeObject | undefined): string {
  if (!o) return '';
  const x = o as V1PersistentVolumeClaim & V1PersistentVolume & V1StorageClass;
  if (kind === 'claim') return JSON.stringify([x.metadata?.uid, x.spec?.volumeName, x.spec?.storageClassName, x.spec?.resources?.requests, x.metadata?.deletionTimestamp ?? '']);
  if (kind === 'volume') return JSON.stringify([x.metadata?.uid, x.spec?.claimRef?.uid, x.spec?.nodeAffinity, x.status?.phase, x.metadata?.deletionTimestamp ?? '', x.metadata?.annotations?.[ANNOTATION_PERSISTENCE_ID]]);
  return JSON.stringify([x.metadata?.uid, x.provisioner, x.volumeBindingMode, x.reclaimPolicy]);
}

export class KubeStorage {
  private readonly claims = new Map<string, V1PersistentVolumeClaim>();
  private readonly volumes = new Map<string, V1PersistentVolume>();
  private readonly byPersistenceId = new Map<string, V1PersistentVolume>();
  private readonly classes = new Map<string, V1StorageClass>();
  private readonly listeners: ((c: StorageChange) => void)[] = [];

  constructor(private readonly informers: StorageInformers) {
    this.track('claim', informers.claims, this.claims);
    this.track('volume', informers.volumes, this.volumes);
    this.track('class', informers.classes, this.classes);
  }

  /** Informers on the API server's claims (all namespaces), volumes and storage classes. */
  static watch(http: KubeHttp, opts: InformerOptions = {}): KubeStorage {
    const inf = <T extends KubeObject>(name: string, path: string) => new ResilientInformer<T>(httpListWatch<T>(http, { path }), { ...opts, name });
    return new KubeStorage({
      claims: inf<V1PersistentVolumeClaim>('claims', '/api/v1/persistentvolumeclaims'),
      volumes: inf<V1PersistentVolume>('volumes', '/api/v1/persistentvolumes'),
      classes: inf<V1StorageClass>('storage-classes', '/apis/storage.k8s.io/v1/storageclasses'),
    });
  }

  get ready(): Promise<void> {
    return Promise.all([this.informers.claims.ready, this.informers.volumes.ready, this.informers.classes.ready]).then(() => undefined);
  }

  hasSynced(): boolean {
    return this.informers.claims.hasSynced() && this.informers.volumes.hasSynced() && this.informers.classes.hasSynced();
  }

  start(): void {
    this.informers.claims.start();
    this.informers.volumes.start();
    this.informers.classes.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.informers.claims.stop(), this.informers.volumes.stop(), this.informers.classes.stop()]);
  }

  /** Called for each add and delete, and each update that changes what placement or reclaim reads. */
  onChange(h: (c: StorageChange) => void): void {
    this.listeners.push(h);
  }

  claim(namespace: string, name: string): V1PersistentVolumeClaim | undefined {
    return this.claims.get(`${namespace}/${name}`);
  }

  volume(name: string): V1PersistentVolume | undefined {
    return this.volumes.get(name);
  }

  storageClass(name: string): V1StorageClass | undefined {
    return this.classes.get(name);
  }

  /** The PersistentVolume kube-mesos wrote for the Mesos volume with this persistence id, if it exists. */
  volumeByPersistenceId(persistenceId: string): V1PersistentVolume | undefined {
    return this.byPersistenceId.get(persistenceId);
  }

  /** Every PersistentVolume written for a Mesos volume (it carries a persistence id). */
  mesosVolumes(): Iterable<V1PersistentVolume> {
    return this.byPersistenceId.values();
  }

  private track<T extends KubeObject>(kind: StorageChange['kind'], inf: StorageInformerLike<T>, into: Map<string, T>): void {
    const put = (o: T, old?: T) => {
      into.set(objectKey(o), o);
      if (kind === 'volume') this.indexVolume(o as V1PersistentVolume, old as V1PersistentVolume | undefined);
      if (!old || signature(kind, old) !== signature(kind, o)) this.emit({ kind, key: objectKey(o) } as StorageChange);
    };
    inf.on('add', (o) => put(o));
    inf.on('update', (o, old) => put(o, old));
    inf.on('delete', (o) => {
      into.delete(objectKey(o));
      if (kind === 'volume') this.indexVolume(undefined, o as V1PersistentVolume);
      this.emit({ kind, key: objectKey(o) } as StorageChange);
    });
  }

  private indexVolume(pv: V1PersistentVolume | undefined, old: V1PersistentVolume | undefined): void {
    const oldId = old?.metadata?.annotations?.[ANNOTATION_PERSISTENCE_ID];
    if (oldId && this.byPersistenceId.get(oldId)?.metadata?.name === old?.metadata?.name) this.byPersistenceId.delete(oldId);
    const id = pv?.metadata?.annotations?.[ANNOTATION_PERSISTENCE_ID];
    if (pv && id) this.byPersistenceId.set(id, pv);
  }

  private emit(c: StorageChange): void {
    for (const h of this.listeners) h(c);
  }
}
