import type { V1PersistentVolume, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import { until } from '../../test/support/until.js';
import { ANNOTATION_PERSISTENCE_ID } from '../names.js';
import { ResilientInformer } from './informer.js';
import { KubeStorage, type StorageChange } from './storage-informer.js';
import { FakeListWatch } from './testing/fake-source.js';

const opts = { freeze: true, backoff: { initialMs: 1, maxMs: 20, random: () => 0.5 } };
const claim = (name: string, volumeName?: string, rv = '1'): V1PersistentVolumeClaim => ({ metadata: { name, namespace: 'ns', uid: `u-${name}`, resourceVersion: rv, annotations: { rv } }, spec: { volumeName, storageClassName: 'mesos' } });
const pv = (name: string, pid: string | undefined, phase = 'Bound'): V1PersistentVolume => ({ metadata: { name, uid: `u-${name}`, annotations: pid ? { [ANNOTATION_PERSISTENCE_ID]: pid } : {} }, spec: {}, status: { phase } });

function setup() {
  const claims = new FakeListWatch<V1PersistentVolumeClaim>();
  const volumes = new FakeListWatch<V1PersistentVolume>();
  const classes = new FakeListWatch<V1StorageClass>();
  const storage = new KubeStorage({ claims: new ResilientInformer(claims, opts), volumes: new ResilientInformer(volumes, opts), classes: new ResilientInformer(classes, opts) });
  const changes: string[] = [];
  storage.onChange((c: StorageChange) => changes.push(`${c.kind} ${c.key}`));
  return { claims, volumes, classes, storage, changes };
}

describe('KubeStorage', () => {
  it('indexes claims by namespace/name, volumes by name and persistence id, classes by name; reports changes placement reads', async () => {
    const { claims, volumes, classes, storage, changes } = setup();
    claims.upsert(claim('data-0'));
    volumes.upsert(pv('pvc-1', 'kube-mesos-1'));
    volumes.upsert(pv('other', undefined));
    classes.upsert({ metadata: { name: 'mesos' }, provisioner: 'kube-mesos.io/mesos-volume' });
    storage.start();
    await storage.ready;
    expect(storage.hasSynced()).toBe(true);
    expect(storage.claim('ns', 'data-0')?.metadata?.uid).toBe('u-data-0');
    expect(storage.claim('other', 'data-0')).toBeUndefined();
    expect(storage.volume('pvc-1')?.metadata?.uid).toBe('u-pvc-1');
    expect(storage.volumeByPersistenceId('kube-mesos-1')?.metadata?.name).toBe('pvc-1');
    expect(storage.storageClass('mesos')?.provisioner).toBe('kube-mesos.io/mesos-volume');
    await until(() => claims.activeWatches === 1 && volumes.activeWatches === 1, 'watches');
    changes.length = 0;
    claims.upsert(claim('data-0', undefined, '2')); // only an annotation changed: nothing placement reads
    claims.upsert(claim('data-0', 'pvc-1', '3')); // bound
    volumes.upsert(pv('pvc-1', 'kube-mesos-1', 'Released'));
    volumes.remove('pvc-1');
    await until(() => changes.length === 3, `3 changes, got ${changes.join('; ')}`);
    expect(changes).toEqual(['claim ns/data-0', 'volume pvc-1', 'volume pvc-1']);
    expect(storage.claim('ns', 'data-0')?.spec?.volumeName).toBe('pvc-1');
    expect(storage.volumeByPersistenceId('kube-mesos-1')).toBeUndefined();
    await storage.stop();
  });
});
