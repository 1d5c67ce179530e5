import type { Offer, Resource } from '../mesos/types.js';
import type { V1Node } from '@kubernetes/client-node';
import { agentInfoFromOffer } from './agent-info.js';
import { agentView, buildSnapshot, offeredSlices, offeredVolumes, SnapshotCache } from './snapshot.js';
import { CoreState } from './state.js';
import { DEFAULT_POOL_CONFIG, kubeletCounts } from '../pool/planner.js';

const scalar = (name: string, value: number, extra: Partial<Resource> = {}): Resource => ({ name, type: 'SCALAR', scalar: { value }, ...extra });
const offer = (resources: Resource[]): Offer => ({ id: { value: 'o' }, framework_id: { value: 'f' }, agent_id: { value: 'a' }, hostname: 'h', resources });

describe('offeredSlices', () => {
  it('sums scalars and collects ports per reservation role across offers', () => {
    const slices = offeredSlices([
      offer([scalar('cpus', 2), scalar('mem', 1024), { name: 'ports', type: 'RANGES', ranges: { range: [{ begin: 31000, end: 31009 }] } }]),
      offer([scalar('cpus', 1.5), scalar('disk', 100), scalar('cpus', 4, { reservations: [{ type: 'DYNAMIC', role: 'prod' }] })]),
    ]);
    expect(slices).toEqual([
      { role: '*', res: { cpus: 3.5, mem: 1024, disk: 100 }, ports: [[31000, 31009]] },
      { role: 'prod', res: { cpus: 4, mem: 0, disk: 0 }, ports: [] },
    ]);
  });

  it('leaves out revocable resources and persistent volumes', () => {
    expect(offeredSlices([offer([scalar('cpus', 1, { revocable: {} }), scalar('disk', 5, { disk: { persistence: { id: 'v' } } })])])).toEqual([]);
  });

  it('counts mapped Mesos scalars (gpus) and ignores unknown ones', () => {
    expect(offeredSlices([offer([scalar('cpus', 1), scalar('gpus', 2), scalar('fpgas', 1)])])).toEqual([{ role: '*', res: { cpus: 1, mem: 0, disk: 0 }, ports: [], scalars: { gpus: 2 } }]);
  });
});

describe('agentView: the Kubernetes side', () => {
  const info = agentInfoFromOffer({ agent_id: { value: 'a1' }, hostname: 'h1', attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }], domain: { fault_domain: { region: { name: 'r' }, zone: { name: 'z' } } } });
  const base = { info, offers: [offer([scalar('cpus', 2)])], pods: [], unschedulable: false };

  it('without a Node: the labels the kubelet will register (os/arch too), no taints', () => {
    const v = agentView(base);
    expect(v.labels).toMatchObject({ 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'topology.kubernetes.io/zone': 'z', 'kube-mesos.io/attribute-rack': 'r1' });
    expect([v.taints, v.unschedulable]).toEqual([[], false]);
  });

  it("with its Node: kubectl label, taint and cordon, Node-advertised resources; kube-mesos' own unschedulable stands", () => {
    const node: V1Node = {
      metadata: { name: 'h1', labels: { 'kube-mesos.io/agent-id': 'a1', disk: 'ssd' } },
      spec: { unschedulable: true, taints: [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }] },
      status: { allocatable: { cpu: '2', 'example.com/widget': '3' } },
    };
    const v = agentView({ ...base, node });
    expect(v.labels).toMatchObject({ disk: 'ssd', 'kubernetes.io/os': 'linux' });
    expect(v.taints).toEqual([{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
    expect(v.unschedulable).toBe(true);
    expect(v.nodeExtended).toEqual({ 'example.com/widget': 3 });
    expect(agentView({ ...base, node: { ...node, spec: {} }, unschedulable: true }).unschedulable).toBe(true);
  });
});

describe('buildSnapshot with a SnapshotCache', () => {
  const offerOn = (id: string, agent: string): Offer => ({ ...offer([scalar('cpus', 2), scalar('mem', 1024)]), id: { value: id }, agent_id: { value: agent }, hostname: agent });
  const opts = (cache: SnapshotCache) => ({ unhealthyZones: new Set<string>(), kubeletCounts: kubeletCounts([]), pool: DEFAULT_POOL_CONFIG, maxPodsPerKubelet: 110, cache });

  it('keeps the view objects of agents whose inputs did not change and makes new ones for the others', () => {
    const s = new CoreState({ nowMs: 0 });
    for (const id of ['a1', 'a2', 'a3']) {
      s.agents.set(id, { info: agentInfoFromOffer({ agent_id: { value: id }, hostname: id }), lastOfferMs: 0, lastOffered: { cpus: 2, mem: 1024 } });
      s.offers.add(offerOn(`o-${id}`, id), 0);
    }
    const cache = new SnapshotCache();
    const first = buildSnapshot(s, opts(cache));
    expect(cache.reused).toBe(0);
    s.offers.add(offerOn('o-a2-bis', 'a2'), 1);
    const second = buildSnapshot(s, opts(cache));
    expect(second.map((v) => v.id)).toEqual(['a1', 'a2', 'a3']);
    expect([second[0] === first[0], second[1] === first[1], second[2] === first[2]]).toEqual([true, false, true]);
    expect(second[1].offered[0].res.cpus).toBe(4);
    expect(cache.reused).toBe(2);
    // without a cache every view is new, with the same content
    const plain = buildSnapshot(s, { ...opts(cache), cache: undefined });
    expect(plain[0]).not.toBe(second[0]);
    expect(plain).toEqual(second);
  });

  it('makes a new view when an offer is taken, a task lands, the kubelet changes state or the agent is lost', () => {
    const s = new CoreState({ nowMs: 0 });
    for (const id of ['a1', 'a2']) {
      s.agents.set(id, { info: agentInfoFromOffer({ agent_id: { value: id }, hostname: id }), lastOfferMs: 0, lastOffered: { cpus: 2, mem: 1024 } });
      s.offers.add(offerOn(`o-${id}`, id), 0);
    }
    const cache = new SnapshotCache();
    const views = () => buildSnapshot(s, opts(cache));
    let before = views();
    const changed = (what: () => void): boolean[] => {
      what();
      const after = views();
      const out = after.map((v, i) => v !== before[i]);
      before = after;
      return out;
    };
    expect(changed(() => undefined)).toEqual([false, false]);
    expect(changed(() => s.offers.remove('o-a1'))).toEqual([true, false]);
    expect(before[0].offered).toEqual([]);
    // The same offer object back (declined, then offered again as the same id in a test): the same view.
    const o = s.offers.takeAgent('a2')[0];
    s.offers.add(o, 1);
    expect(changed(() => undefined)).toEqual([false, false]);
    s.pods.set('u1', { metadata: { uid: 'u1', name: 'p1', namespace: 'ns' }, spec: { containers: [] }, status: { phase: 'Pending' } });
    expect(changed(() => s.tasks.assume({ taskId: 't1', podKey: 'ns/p1', podUid: 'u1', agentId: 'a2', executorId: 'e', launchedAtMs: 0, cpus: 1, mem: 1, disk: 0, hostPorts: [] }, 0))).toEqual([false, true]);
    expect(before[1].pods.map((p) => p.uid)).toEqual(['u1']);
    s.tasks.launchKubelet('a2', 'e', 'a2', 0);
    expect(changed(() => undefined)[1]).toBe(true); // a kubelet now: its pod count is set
    expect(changed(() => s.tasks.kubeletDraining('a2'))).toEqual([false, true]);
    expect(before[1].unschedulable).toBe(true);
  });
});

describe('offeredVolumes', () => {
  it('lists the persistence ids of the volumes across offers, once each, sorted', () => {
    const vol = (id: string) => scalar('disk', 5, { reservations: [{ type: 'DYNAMIC', role: 'web' }], disk: { persistence: { id }, volume: { mode: 'RW', container_path: 'data' } } });
    expect(offeredVolumes([offer([vol('pv-b'), scalar('cpus', 1)]), offer([vol('pv-a'), vol('pv-b')])])).toEqual(['pv-a', 'pv-b']);
    expect(offeredVolumes([offer([scalar('disk', 10)])])).toEqual([]);
  });
});
