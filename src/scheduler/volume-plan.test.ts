import type { V1PersistentVolume, V1Pod } from '@kubernetes/client-node';
import type { Offer, Resource } from '../mesos/types.js';
import { LABEL_CLAIM_UID } from '../names.js';
import { podVolumes, reclaimOperations, volumeHostPath, volumeReleasedForDelete, volumeRoleOf } from './volume-plan.js';

const disk = (mb: number, role = 'kube'): Resource => ({ name: 'disk', type: 'SCALAR', scalar: { value: mb }, allocation_info: { role } });
const reserved = (uid: string, mb: number): Resource => ({ ...disk(mb), reservations: [{ type: 'DYNAMIC', role: 'kube', labels: { labels: [{ key: LABEL_CLAIM_UID, value: uid }] } }] });
const offer = (...resources: Resource[]): Offer => ({ id: { value: 'o1' }, framework_id: { value: 'fw' }, agent_id: { value: 'a1' }, hostname: 'h', resources });
const pod: V1Pod = { metadata: { name: 'db-0', namespace: 'ns' }, spec: { containers: [] } };

describe('volumeHostPath', () => {
  it.each([
    ['/var/lib/mesos', 'a1', 'kube', '/var/lib/mesos/volumes/roles/kube/p1'],
    ['/tmp/emu/slaves/{agentId}/', 'S0', 'kube', '/tmp/emu/slaves/S0/volumes/roles/kube/p1'],
    ['/var/lib/mesos', 'a1', 'eng/db', '/var/lib/mesos/volumes/roles/eng db/p1'],
  ])('%s on %s for role %s', (dir, agent, role, want) => {
    expect(volumeHostPath(dir, agent, role, 'p1')).toBe(want);
  });
});

describe('volumeRoleOf', () => {
  it('takes the placement role when reserved, else the allocation role of plain disk; never "*"', () => {
    expect(volumeRoleOf([disk(10, '*')], 'prod')).toBe('prod');
    expect(volumeRoleOf([disk(10, 'kube')], '*')).toBe('kube');
    expect(volumeRoleOf([disk(10, '*')], '*')).toBeUndefined();
  });
});

describe('podVolumes', () => {
  const claim = (ns: string, name: string) => (name === 'big' || name === 'd' ? { metadata: { name, namespace: ns, uid: `u-${name}` }, spec: { resources: { requests: { storage: name === 'big' ? '1Gi' : '10Mi' } } } } : undefined);
  it.each([
    ['no role but "*"', [{ name: 'd', phase: 'provision' as const, storageMb: 10 }], [disk(100)], '*', 'a Mesos volume needs a framework role other than "*" (mesos.roles)'],
    ['not enough plain disk', [{ name: 'big', phase: 'provision' as const, storageMb: 1024 }], [disk(100)], 'kube', 'claim big: Insufficient disk for the volume: 1024 MB wanted, 100 MB unreserved disk offered'],
    ['the claim vanished', [{ name: 'gone', phase: 'provision' as const, storageMb: 1 }], [disk(100)], 'kube', 'persistentvolumeclaim "gone" not found'],
    ['the bound volume is not offered', [{ name: 'd', phase: 'bound' as const, mesos: { agentId: 'a1', persistenceId: 'p9' } }], [disk(100)], 'kube', 'the Mesos volume p9 of claim d is not in the offers'],
  ])('%s → a reason, no operation', (_n, claims, remaining, role, reason) => {
    expect(podVolumes({ pod, claims, claim, remaining, role })).toEqual({ ok: false, reason });
  });

  it('two new volumes: RESERVE + CREATE each, the rest of the disk left for the pod', () => {
    const r = podVolumes({ pod, claims: [{ name: 'd', phase: 'provision', storageMb: 10 }, { name: 'big', phase: 'provision', storageMb: 1024 }], claim, remaining: [disk(2000)], role: 'kube' });
    if (!r.ok) throw new Error(r.reason);
    expect(r.operations.map((o) => o.type)).toEqual(['RESERVE', 'CREATE', 'RESERVE', 'CREATE']);
    expect(r.taskVolumes.map((v) => [v.scalar!.value, v.disk!.persistence!.id])).toEqual([[10, 'kube-mesos-u-d'], [1024, 'kube-mesos-u-big']]);
    expect(r.remaining).toEqual([disk(966)]);
    expect(r.created.map((c) => [c.persistenceId, c.sizeMb, c.role])).toEqual([['kube-mesos-u-d', 10, 'kube'], ['kube-mesos-u-big', 1024, 'kube']]);
  });
});

describe('reclaimOperations', () => {
  const none = { volumeByPersistenceId: () => undefined, inFlight: () => false };
  it('reserved disk of a claim without a volume (CREATE refused) → UNRESERVE only', () => {
    const r = reclaimOperations([offer(disk(100), reserved('u1', 10))], none);
    expect(r.operations).toEqual([{ type: 'UNRESERVE', unreserve: { resources: [reserved('u1', 10)] } }]);
    expect(r.persistenceIds).toEqual(['kube-mesos-u1']);
  });
  it('reservations without the claim label (an operator\'s, another framework\'s) are never touched', () => {
    const foreign: Resource = { ...disk(10), reservations: [{ type: 'DYNAMIC', role: 'kube' }] };
    expect(reclaimOperations([offer(foreign)], none).operations).toEqual([]);
  });
  it.each([
    ['Bound, Delete', 'Delete', 'Bound', false, false],
    ['Released, Delete', 'Delete', 'Released', false, true],
    ['Failed, Delete', 'Delete', 'Failed', false, true],
    ['Released, Retain', 'Retain', 'Released', false, false],
    ['Bound, being deleted', 'Retain', 'Bound', true, true],
  ])('a PV %s → released for delete: %s', (_n, policy, phase, deleting, want) => {
    const pv: V1PersistentVolume = { metadata: deleting ? { deletionTimestamp: new Date(0) } : {}, spec: { persistentVolumeReclaimPolicy: policy }, status: { phase } };
    expect(volumeReleasedForDelete(pv)).toBe(want);
  });
});
