import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Pod, V1StorageClass } from '@kubernetes/client-node';
import { ANNOTATION_PERSISTENCE_ID, ANNOTATION_VOLUME_AGENT, PROVISIONER_MESOS_VOLUME } from '../names.js';
import { claimViews, mesosPersistentVolume, persistenceIdOf, storageMbOf } from './claims.js';

const claim = (name: string, spec: V1PersistentVolumeClaim['spec'] = {}, extra: Partial<V1PersistentVolumeClaim['metadata']> = {}): V1PersistentVolumeClaim => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, ...extra },
  spec,
});
const sc = (name: string, provisioner: string, mode = 'WaitForFirstConsumer', reclaimPolicy?: string): V1StorageClass => ({ metadata: { name }, provisioner, volumeBindingMode: mode, reclaimPolicy });
const pv = (name: string, spec: V1PersistentVolume['spec'] = {}, annotations: Record<string, string> = {}): V1PersistentVolume => ({ metadata: { name, annotations }, spec });
const podWith = (...claims: string[]): V1Pod => ({
  metadata: { name: 'web-0', namespace: 'default' },
  spec: { containers: [], volumes: [{ name: 'cfg', configMap: { name: 'c' } }, ...claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } }))] },
});

const claims = new Map<string, V1PersistentVolumeClaim>([
  ['mesos-new', claim('mesos-new', { storageClassName: 'mesos', resources: { requests: { storage: '1Gi' } } })],
  ['mesos-bound', claim('mesos-bound', { storageClassName: 'mesos', volumeName: 'pv-m' })],
  ['local-bound', claim('local-bound', { storageClassName: 'local', volumeName: 'pv-l' })],
  ['immediate', claim('immediate', { storageClassName: 'ebs' })],
  ['wffc-other', claim('wffc-other', { storageClassName: 'csi' })],
  ['pv-not-cached', claim('pv-not-cached', { volumeName: 'pv-gone' })],
  ['deleting', claim('deleting', { storageClassName: 'mesos' }, { deletionTimestamp: new Date(0) })],
]);
const zone = { nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] }] };
const volumes = new Map<string, V1PersistentVolume>([
  ['pv-m', pv('pv-m', {}, { [ANNOTATION_VOLUME_AGENT]: 'S1', [ANNOTATION_PERSISTENCE_ID]: 'kube-mesos-uid-mesos-bound' })],
  ['pv-l', pv('pv-l', { nodeAffinity: { required: zone } })],
]);
const classes = new Map<string, V1StorageClass>([
  ['mesos', sc('mesos', PROVISIONER_MESOS_VOLUME)],
  ['local', sc('local', 'kubernetes.io/no-provisioner')],
  ['ebs', sc('ebs', 'ebs.csi.aws.com', 'Immediate')],
  ['csi', sc('csi', 'csi.example.com')],
]);
const look = { claim: (_ns: string, n: string) => claims.get(n), volume: (n: string) => volumes.get(n), storageClass: (n: string) => classes.get(n) };

describe('claimViews', () => {
  it.each([
    ['unbound claim of the Mesos class: provision with its size in MB', 'mesos-new', { name: 'mesos-new', phase: 'provision', storageMb: 1024 }],
    ['bound to a Mesos volume: the agent and persistence id', 'mesos-bound', { name: 'mesos-bound', phase: 'bound', mesos: { agentId: 'S1', persistenceId: 'kube-mesos-uid-mesos-bound' } }],
    ['bound to a local PV: its node affinity', 'local-bound', { name: 'local-bound', phase: 'bound', nodeAffinity: zone }],
    ['unbound Immediate claim', 'immediate', { name: 'immediate', phase: 'unbound' }],
    ['unbound claim of another WaitForFirstConsumer class: no restriction', 'wffc-other', { name: 'wffc-other', phase: 'bound' }],
    ['bound to a PV not in the cache yet', 'pv-not-cached', { name: 'pv-not-cached', phase: 'missing' }],
    ['a claim being deleted', 'deleting', { name: 'deleting', phase: 'missing' }],
    ['no such claim', 'nope', { name: 'nope', phase: 'missing' }],
  ])('%s', (_n, name, want) => {
    expect(claimViews(podWith(name), look)).toEqual([want]);
  });

  it('ignores volumes that are not claims; a pod without volumes has no claims', () => {
    expect(claimViews({ spec: { containers: [], volumes: [{ name: 'x', emptyDir: {} }] } }, look)).toEqual([]);
    expect(claimViews({ spec: { containers: [] } }, look)).toEqual([]);
  });
});

describe('storageMbOf / persistenceIdOf', () => {
  it.each([
    ['1Gi', 1024],
    ['500M', 477],
    ['1', 1],
    ['junk', undefined],
  ])('%s → %s MB', (q, mb) => {
    expect(storageMbOf(claim('c', { resources: { requests: { storage: q } } }))).toBe(mb);
  });
  it('persistence ids keep only path-safe characters', () => {
    expect(persistenceIdOf('0b1e-4f/..x')).toBe('kube-mesos-0b1e-4f-..x');
  });
});

describe('mesosPersistentVolume', () => {
  it('a local PV at the agent path, node affinity to the Node, pre-bound to the claim, reclaim policy from the class', () => {
    const c = claim('data-web-0', { accessModes: ['ReadWriteOnce'] });
    const v = mesosPersistentVolume({ claim: c, storageClass: sc('mesos', PROVISIONER_MESOS_VOLUME, 'WaitForFirstConsumer', 'Retain'), agentId: 'S1', nodeName: 'agent-1', path: '/w/volumes/roles/k/kube-mesos-uid-data-web-0', sizeMb: 1024 });
    expect(v.spec).toEqual(
      expect.objectContaining({
        capacity: { storage: '1024Mi' },
        persistentVolumeReclaimPolicy: 'Retain',
        local: { path: '/w/volumes/roles/k/kube-mesos-uid-data-web-0' },
        claimRef: expect.objectContaining({ name: 'data-web-0', namespace: 'default', uid: 'uid-data-web-0' }),
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['agent-1'] }] }] } },
      }),
    );
    expect(v.metadata!.annotations).toEqual(expect.objectContaining({ [ANNOTATION_VOLUME_AGENT]: 'S1', [ANNOTATION_PERSISTENCE_ID]: 'kube-mesos-uid-data-web-0' }));
  });
});
