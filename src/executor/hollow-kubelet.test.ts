import { afterEach, describe, expect, it } from '@jest/globals';
import { FakeCluster } from './fake-cluster.js';
import { defaultAddresses, HollowKubelet, type HollowKubeletOptions } from './hollow-kubelet.js';
import { InformerPodSource } from './pod-source.js';
import { until } from '../../test/support/until.js';


describe('HollowKubelet', () => {
  let kubelet: HollowKubelet | undefined;
  afterEach(async () => {
    await kubelet?.stop();
    kubelet = undefined;
  });

  function start(cluster: FakeCluster, opts: Partial<HollowKubeletOptions> = {}) {
    kubelet = new HollowKubelet({ nodeName: 'n1', api: cluster, pods: new InformerPodSource(cluster), random: () => 0, exitDelayMs: 5, ...opts });
    kubelet.start();
    return kubelet;
  }

  it('registers a new Node, posts Ready and clears the not-ready taint the API server adds', async () => {
    const cluster = new FakeCluster();
    await start(cluster, { labels: { 'topology.kubernetes.io/zone': 'a' }, taints: [{ key: 'k', effect: 'NoSchedule' }], capacity: { cpu: '4', memory: '8Gi', pods: '50' } }).ready;
    const node = cluster.nodes.get('n1')!;
    expect(node.metadata?.labels).toMatchObject({ 'kubernetes.io/hostname': 'n1', 'topology.kubernetes.io/zone': 'a' });
    expect(node.spec?.taints).toEqual([{ key: 'k', effect: 'NoSchedule' }]);
    expect(node.status?.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '50' });
    expect(node.status?.allocatable).toEqual({ cpu: '4', memory: '8Gi', pods: '50' });
    expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect(cluster.leases.has('n1')).toBe(true);
  });

  it("takes over an existing Node: its labels updated, others' taints kept, configured ones added, not recreated", async () => {
    const cluster = new FakeCluster();
    await cluster.createNode({ metadata: { name: 'n1', labels: { old: 'x' } }, spec: { taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] } });
    await start(cluster, { labels: { 'topology.kubernetes.io/zone': 'b' }, taints: [{ key: 'mesos', effect: 'PreferNoSchedule' }] }).ready;
    const node = cluster.nodes.get('n1')!;
    expect(node.metadata?.labels).toMatchObject({ old: 'x', 'topology.kubernetes.io/zone': 'b' });
    expect(node.spec?.taints).toEqual([
      { key: 'dedicated', value: 'x', effect: 'NoSchedule' },
      { key: 'mesos', effect: 'PreferNoSchedule' },
    ]);
    expect(cluster.writes.filter((w) => w === 'create node n1')).toHaveLength(2); // the test's own, then ours (AlreadyExists)
  });

  it('copies extended resources patched into capacity to allocatable at the next status post, as the kubelet does', async () => {
    const cluster = new FakeCluster();
    await start(cluster, { capacity: { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi', pods: '50' }, statusRefreshMs: 20, leaseRenewMs: 20 }).ready;
    const n = cluster.nodes.get('n1')!;
    cluster.nodes.set('n1', { ...n, status: { ...n.status, capacity: { ...n.status!.capacity, 'example.com/widget': '3' } } });
    await until(() => cluster.nodes.get('n1')!.status?.allocatable?.['example.com/widget'] === '3', 'the widget in allocatable');
    expect(cluster.nodes.get('n1')!.status?.allocatable).toMatchObject({ cpu: '4', 'ephemeral-storage': '100Gi', 'example.com/widget': '3' });
  });

  it('retries registration after transient failures', async () => {
    const cluster = new FakeCluster();
    cluster.failNext.set('createNode', 2);
    await start(cluster).ready;
    expect(cluster.nodes.has('n1')).toBe(true);
  });

  it('renews the Lease periodically', async () => {
    const cluster = new FakeCluster();
    await start(cluster, { leaseRenewMs: 20, leaseDurationSeconds: 1 }).ready;
    await until(() => cluster.writes.filter((w) => w === 'renew lease n1').length >= 4, 'four lease renewals', 3000);
  });

  it('one status patch per pod to Running, distinct IPs from the node range', async () => {
    const cluster = new FakeCluster();
    start(cluster, { podCIDR: '10.9.8.0/24', hostIP: '192.0.2.7' });
    for (const n of ['a', 'b', 'c']) cluster.addPod('ns', n, { nodeName: 'n1' });
    await until(() => ['a', 'b', 'c'].every((n) => cluster.pod('ns', n)?.status?.phase === 'Running'), 'pods a, b, c Running', 3000);
    const ips = ['a', 'b', 'c'].map((n) => cluster.pod('ns', n)!.status!.podIP);
    expect(new Set(ips).size).toBe(3);
    for (const ip of ips) expect(ip).toMatch(/^10\.9\.8\.(\d+)$/);
    const a = cluster.pod('ns', 'a')!;
    expect(a.status).toMatchObject({ hostIP: '192.0.2.7', podIPs: [{ ip: ips[0] }] });
    expect(a.status?.containerStatuses).toEqual([expect.objectContaining({ name: 'main', ready: true, started: true, state: { running: expect.anything() } })]);
    expect(a.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(['Initialized=True', 'Ready=True', 'ContainersReady=True', 'PodScheduled=True']);
    expect(cluster.writes.filter((w) => w.startsWith('patch pod/status'))).toHaveLength(3);
    cluster.removePod('ns/a');
    await new Promise((r) => setTimeout(r, 10));
    expect(cluster.writes.filter((w) => w.startsWith('patch pod/status'))).toHaveLength(3); // nothing periodic per pod
  });

  it.each([
    ['0', 'Succeeded', 0],
    ['1', 'Failed', 1],
    ['137', 'Failed', 137],
  ])('exit-code annotation %s → %s', async (value, phase, code) => {
    const cluster = new FakeCluster();
    start(cluster);
    cluster.addPod('ns', 'job', { nodeName: 'n1', annotations: { 'kube-mesos.io/hollow-exit-code': value } });
    await until(() => cluster.pod('ns', 'job')?.status?.phase === phase, `job ${phase}`, 3000);
    expect(cluster.pod('ns', 'job')!.status!.containerStatuses![0].state?.terminated?.exitCode).toBe(code);
  });

  it('a malformed exit-code annotation is ignored (pod keeps running)', async () => {
    const cluster = new FakeCluster();
    start(cluster);
    cluster.addPod('ns', 'job', { nodeName: 'n1', annotations: { 'kube-mesos.io/hollow-exit-code': 'soon' } });
    await until(() => cluster.pod('ns', 'job')?.status?.phase === 'Running', 'job Running', 3000);
    await new Promise((r) => setTimeout(r, 30));
    expect(cluster.pod('ns', 'job')!.status!.phase).toBe('Running');
  });

  it('finishes deletions at once by default, after the grace period when asked', async () => {
    const cluster = new FakeCluster();
    start(cluster);
    cluster.addPod('ns', 'p', { nodeName: 'n1' });
    await until(() => cluster.pod('ns', 'p')?.status?.phase === 'Running', 'pod p Running', 3000);
    await cluster.deletePod('ns', 'p', { gracePeriodSeconds: 30 });
    await until(() => cluster.pod('ns', 'p') === undefined, 'pod p deleted', 3000);
    expect(cluster.writes).toContain('delete pod ns/p grace=0');
    await kubelet!.stop();

    const c2 = new FakeCluster();
    kubelet = new HollowKubelet({ nodeName: 'n1', api: c2, pods: new InformerPodSource(c2), honourGracePeriod: true, random: () => 0 });
    kubelet.start();
    c2.addPod('ns', 'q', { nodeName: 'n1' });
    await until(() => c2.pod('ns', 'q')?.status?.phase === 'Running', 'pod q Running', 3000);
    const t0 = Date.now();
    await c2.deletePod('ns', 'q', { gracePeriodSeconds: 1 });
    await until(() => c2.pod('ns', 'q') === undefined, 'pod q deleted', 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('derives stable, distinct addresses per node name', () => {
    const a = defaultAddresses('agent-1');
    expect(defaultAddresses('agent-1')).toEqual(a);
    expect(defaultAddresses('agent-2').podCIDR).not.toBe(a.podCIDR);
    expect(a.podCIDR).toMatch(/^10\.(\d+)\.(\d+)\.0\/24$/);
  });

  it.each([
    [{ nodeName: '' }, /nodeName is required/],
    [{ podCIDR: '10.0.0.0/16' }, /podCIDR must be a \/24/],
    [{ leaseRenewMs: 50_000, leaseDurationSeconds: 40 }, /leaseRenewMs < leaseDurationSeconds/],
  ])('constructor rejects %j', (change, msg) => {
    const cluster = new FakeCluster();
    expect(() => new HollowKubelet({ nodeName: 'n1', api: cluster, pods: new InformerPodSource(cluster), ...change })).toThrow(msg);
  });
});
