// Claims, PersistentVolumes and StorageClasses as the scheduler reads and writes them, against the real control plane,
// as the kube-mesos ServiceAccount bound to manifests/rbac.yaml: the informers sync and see a claim and its class, the
// PersistentVolume of a Mesos volume is created pre-bound and the PV controller binds the claim to it, and it is deleted.
import type { KubeConfig, V1PersistentVolumeClaim, V1StorageClass } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../src/kube/client.js';
import { KubeHttp } from '../../src/kube/http.js';
import { rbacYaml } from '../../src/kube/rbac.js';
import { KubeStorage } from '../../src/kube/storage-informer.js';
import { mesosPersistentVolume } from '../../src/scheduler/claims.js';
import { createTestNamespace, kubectl, serviceAccountKubeConfig, waitFor, type TestNamespace } from '../support/kube.js';

let ns: TestNamespace;
let sa: KubeConfig;
const cls = `mesos-volume-it-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  ns = await createTestNamespace('storage-informer');
  await waitFor(() => kubectl(['apply', '-f', '-'], { input: rbacYaml({ namespace: ns.name, omitNamespace: true }) }).then(() => true), { what: 'rbac.yaml applied', timeoutMs: 60_000 });
  sa = await serviceAccountKubeConfig(ns.name, 'kube-mesos', 'kube-mesos');
}, 120_000);

afterAll(async () => {
  await kubectl(['delete', 'clusterrolebinding', `kube-mesos:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await kubectl(['delete', 'rolebinding', '-n', 'kube-node-lease', `kube-mesos-node-lease:${ns.name}:kube-mesos`, '--ignore-not-found'], { allowFailure: true });
  await kubectl(['delete', 'storageclass', cls, '--ignore-not-found'], { allowFailure: true });
  await ns?.delete();
});

it('syncs, sees a claim of the Mesos class; selected-node hands it to our provisioner; a pre-bound PV it creates is bound by the PV controller, then deleted', async () => {
  const http = KubeHttp.from(sa);
  const storage = KubeStorage.watch(http);
  storage.start();
  try {
    await storage.ready;
    await kubectl(['apply', '-f', '-'], { input: `apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: { name: ${cls} }\nprovisioner: kube-mesos.io/mesos-volume\nvolumeBindingMode: WaitForFirstConsumer\nreclaimPolicy: Delete\n` });
    await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: data }\nspec: { accessModes: [ReadWriteOnce], storageClassName: ${cls}, resources: { requests: { storage: 64Mi } } }\n` });
    const [claim, sc] = await waitFor(() => { const c = storage.claim(ns.name, 'data'); const s = storage.storageClass(cls); return c && s && ([c, s] as [V1PersistentVolumeClaim, V1StorageClass]); }, { what: 'the claim and its class in the informers', timeoutMs: 30_000 });
    const pv = mesosPersistentVolume({ claim, storageClass: sc, agentId: 'S0', nodeName: `node-${ns.name}`, path: `/var/lib/mesos/volumes/roles/kube/x-${ns.name}`, sizeMb: 64 });
    const client = new KubeClient(http);
    // kube-scheduler's VolumeBinding step: the claim names its node; the PV controller then waits for the provisioner
    const selected = await client.raw('PATCH', `/api/v1/namespaces/${ns.name}/persistentvolumeclaims/data`, { body: { metadata: { annotations: { 'volume.kubernetes.io/selected-node': `node-${ns.name}` } } }, contentType: 'application/merge-patch+json' });
    expect(selected).toMatchObject({ ok: true });
    await waitFor(() => storage.claim(ns.name, 'data')?.metadata?.annotations?.['volume.beta.kubernetes.io/storage-provisioner'] === 'kube-mesos.io/mesos-volume', { what: 'the PV controller handing the claim to kube-mesos.io/mesos-volume', timeoutMs: 60_000 });
    const created = await client.raw('POST', '/api/v1/persistentvolumes', { body: pv });
    expect(created).toMatchObject({ ok: true });
    await waitFor(() => storage.claim(ns.name, 'data')?.spec?.volumeName === pv.metadata!.name && storage.volume(pv.metadata!.name!)?.status?.phase === 'Bound', { what: 'the claim bound to the PV by the PV controller', timeoutMs: 60_000 });
    expect(storage.volumeByPersistenceId(`kube-mesos-${claim.metadata!.uid}`)?.metadata?.name).toBe(pv.metadata!.name);
    await kubectl(['delete', 'pvc', 'data', '-n', ns.name]);
    await waitFor(() => storage.volume(pv.metadata!.name!)?.status?.phase === 'Released', { what: 'the PV Released (reclaim policy Delete: left to its provisioner)', timeoutMs: 60_000 });
    const deleted = await client.raw('DELETE', `/api/v1/persistentvolumes/${pv.metadata!.name}`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: storage.volume(pv.metadata!.name!)!.metadata!.uid } } });
    expect(deleted).toMatchObject({ ok: true });
    await waitFor(() => storage.volume(pv.metadata!.name!) === undefined, { what: 'the PV gone from the informer', timeoutMs: 30_000 });
  } finally {
    await storage.stop();
    http.close();
  }
}, 180_000);
