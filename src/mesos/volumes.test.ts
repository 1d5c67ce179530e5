import { describe, expect, it } from '@jest/globals';
import { contains, resourceKey, subtract } from './resources.js';
import type { Resource } from './types.js';
import { asVolume, findVolume, isPersistentVolume, planVolume, popReservation, pushReservation, refined, reservationLabels, reservedWithLabel, withoutVolume } from './volumes.js';

const disk = (mb: number, extra: Partial<Resource> = {}): Resource => ({ name: 'disk', type: 'SCALAR', scalar: { value: mb }, ...extra });
const cpus = (n: number, extra: Partial<Resource> = {}): Resource => ({ name: 'cpus', type: 'SCALAR', scalar: { value: n }, ...extra });
const web = { role: 'web', principal: 'kube-mesos', labels: { labels: [{ key: 'claim', value: 'uid-1' }] } };

describe('reservation stacks', () => {
  it('pushReservation puts a DYNAMIC reservation on top, in refinement format, whatever the input format', () => {
    expect(pushReservation(disk(10), web)).toEqual(disk(10, { reservations: [{ type: 'DYNAMIC', ...web }] }));
    const staticPre = disk(10, { role: 'eng' });
    expect(pushReservation(staticPre, { role: 'eng/web' })).toEqual(disk(10, { reservations: [{ type: 'STATIC', role: 'eng', principal: undefined, labels: undefined }, { type: 'DYNAMIC', role: 'eng/web' }] }));
  });

  it('popReservation undoes pushReservation; popping the last one leaves unreserved resources', () => {
    const r = disk(10, { allocation_info: { role: 'web' } });
    expect(popReservation(pushReservation(r, web))).toEqual(r);
    expect(popReservation(disk(10, { role: 'web', reservation: { principal: 'p' } }))).toEqual(disk(10));
  });

  it('refined drops the pre-refinement fields and keeps the stack', () => {
    expect(refined(disk(5, { role: 'web', reservation: { principal: 'p' } }))).toEqual(disk(5, { reservations: [{ type: 'DYNAMIC', role: 'web', principal: 'p', labels: undefined }] }));
  });

  it.each([
    [{ claim: 'uid-1' }, 'claim', 'uid-1', 1],
    [{ claim: 'uid-2' }, 'claim', 'uid-1', 0],
    [{}, 'claim', 'uid-1', 0],
  ])('reservedWithLabel(%j, %s=%s) finds %d', (labels, key, value, n) => {
    const r = pushReservation(disk(10), { role: 'web', labels: { labels: Object.entries(labels).map(([k, v]) => ({ key: k, value: v })) } });
    expect(reservationLabels(r)).toEqual(labels);
    expect(reservedWithLabel([r, disk(3), cpus(1)], key, value)).toHaveLength(n);
  });
});

describe('persistent volumes', () => {
  const reserved = pushReservation(disk(100), web);
  const vol = asVolume(reserved, { id: 'pv-1', principal: 'kube-mesos', containerPath: 'data' });

  it('asVolume adds persistence and a read-write volume; withoutVolume gives the reserved disk back', () => {
    expect(vol.disk).toEqual({ persistence: { id: 'pv-1', principal: 'kube-mesos' }, volume: { mode: 'RW', container_path: 'data' } });
    expect(isPersistentVolume(vol)).toBe(true);
    expect(isPersistentVolume(reserved)).toBe(false);
    expect(withoutVolume(vol)).toEqual(reserved);
  });

  it('a disk source survives CREATE and DESTROY', () => {
    const mount = pushReservation(disk(100, { disk: { source: { type: 'MOUNT', mount: { root: '/mnt/d1' } } } }), web);
    const v = asVolume(mount, { id: 'pv-2', containerPath: 'data' });
    expect(v.disk!.source).toEqual({ type: 'MOUNT', mount: { root: '/mnt/d1' } });
    expect(withoutVolume(v)).toEqual(mount);
  });

  it('volume identity does not depend on field order (protobuf vs JSON decoding)', () => {
    const other: Resource = { ...vol, disk: { volume: { container_path: 'data', mode: 'RW' }, persistence: { principal: 'kube-mesos', id: 'pv-1' } } };
    expect(resourceKey(other)).toBe(resourceKey(vol));
    expect(contains([other], vol)).toBe(true);
  });

  it('a volume is distinct from the reserved disk it was made of and from other volumes', () => {
    expect(contains([reserved], vol)).toBe(false);
    expect(contains([vol], asVolume(reserved, { id: 'pv-9', containerPath: 'data' }))).toBe(false);
    expect(findVolume([reserved, vol, cpus(1)], 'pv-1')).toBe(vol);
    expect(findVolume([reserved], 'pv-1')).toBeUndefined();
  });
});

describe('planVolume (RESERVE + CREATE out of an offer)', () => {
  const req = { role: 'web', principal: 'kube-mesos', labels: { 'kube-mesos.io/claim': 'uid-1' }, diskMb: 300, persistenceId: 'pv-uid-1', containerPath: 'data' };

  it('reserves exactly the volume size from unreserved disk and leaves the rest plus the volume in the offer', () => {
    const offered = [cpus(4, { allocation_info: { role: 'web' } }), disk(1000, { allocation_info: { role: 'web' } })];
    const p = planVolume(offered, req);
    if (!p.ok) throw new Error(p.reason);
    expect(p.reserve).toEqual([disk(300, { allocation_info: { role: 'web' }, reservations: [{ type: 'DYNAMIC', role: 'web', principal: 'kube-mesos', labels: { labels: [{ key: 'kube-mesos.io/claim', value: 'uid-1' }] } }] })]);
    expect(p.volume.disk!.persistence).toEqual({ id: 'pv-uid-1', principal: 'kube-mesos' });
    expect(p.volume.scalar!.value).toBe(300);
    expect(p.remaining).toEqual(expect.arrayContaining([disk(700, { allocation_info: { role: 'web' } }), p.volume]));
    expect(subtract(p.remaining, p.volume).some((r) => r.disk)).toBe(false);
  });

  it('gathers the disk from several offered pieces', () => {
    const p = planVolume([disk(200), disk(150)], req);
    expect(p.ok && p.reserve.reduce((n, r) => n + r.scalar!.value, 0)).toBe(300);
  });

  it.each([
    ['too little unreserved disk', [disk(100)], /300 MB wanted, 100 MB unreserved disk offered/],
    ['disk allocated to another role', [disk(1000, { allocation_info: { role: 'batch' } })], /0 MB unreserved disk offered/],
    ['only reserved or mount disk', [disk(1000, { role: 'web' }), disk(1000, { disk: { source: { type: 'MOUNT' } } })], /Insufficient disk/],
  ])('refuses with a reason: %s', (_n, offered, reason) => {
    const p = planVolume(offered, req);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.reason).toMatch(reason);
  });

  it('refuses a non-positive size', () => {
    expect(planVolume([disk(10)], { ...req, diskMb: 0 })).toEqual({ ok: false, reason: 'volume size must be positive, got 0 MB' });
  });
});
