import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { plan } from './plan.js';
import { DEFAULT_NODE_VIEW, expectedNodeLabels, nodeView, parsePreferAvoidPods, type AgentFacts } from './node-view.js';
import { makePod, testConfig } from './testing/builders.js';
import type { AgentView } from './types.js';

const agent: AgentFacts = { id: 'a-1', hostname: 'host-1', zone: 'z1', region: 'r1', attributes: { rack: 'r7' } };

describe('expectedNodeLabels (the Node a kubelet will register)', () => {
  it('has os/arch (GA and beta), topology, hostname, agent id and attributes', () => {
    expect(expectedNodeLabels(agent)).toEqual({
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': 'host-1',
      'kube-mesos.io/agent-id': 'a-1',
      'topology.kubernetes.io/zone': 'z1',
      'topology.kubernetes.io/region': 'r1',
      'kube-mesos.io/attribute-rack': 'r7',
    });
  });
  it('takes os, arch and instance type from agent attributes, and the configured labels', () => {
    const l = expectedNodeLabels({ ...agent, attributes: { arch: 'arm64', 'instance-type': 'm5.large' } }, { ...DEFAULT_NODE_VIEW, labels: { pool: 'mesos' } });
    expect(l).toMatchObject({ 'kubernetes.io/arch': 'arm64', 'node.kubernetes.io/instance-type': 'm5.large', 'beta.kubernetes.io/instance-type': 'm5.large', pool: 'mesos' });
  });
});

describe('nodeView', () => {
  const node = (over: Partial<{ labels: Record<string, string>; annotations: Record<string, string>; taints: V1Taint[]; unschedulable: boolean; allocatable: Record<string, string> }>): V1Node => ({
    metadata: { name: 'host-1', labels: over.labels ?? { 'kubernetes.io/hostname': 'host-1', 'kubernetes.io/os': 'linux' }, annotations: over.annotations },
    spec: { taints: over.taints, unschedulable: over.unschedulable },
    status: { allocatable: over.allocatable ?? { cpu: '4', memory: '8Gi', pods: '110' } },
  });

  it('without a Node: expected labels and the configured taints', () => {
    const v = nodeView(agent, undefined, false, { ...DEFAULT_NODE_VIEW, taints: [{ key: 'dedicated', value: 'mesos', effect: 'NoSchedule' }] });
    expect(v.labels['kubernetes.io/os']).toBe('linux');
    expect(v.taints).toEqual([{ key: 'dedicated', value: 'mesos', effect: 'NoSchedule' }]);
    expect(v.unschedulable).toBe(false);
  });
  it('the Node wins: kubectl label, --overwrite, taints, cordon', () => {
    const v = nodeView(agent, node({ labels: { 'kubernetes.io/os': 'windows', disk: 'ssd' }, taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }], unschedulable: true }), false);
    expect(v.labels).toMatchObject({ 'kubernetes.io/os': 'windows', disk: 'ssd', 'topology.kubernetes.io/zone': 'z1' });
    expect(v.taints).toEqual([{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]);
    expect(v.unschedulable).toBe(true);
  });
  it("kube-mesos' own unschedulable (maintenance, failed zone) stands even when the Node is not cordoned", () => {
    expect(nodeView(agent, node({}), true).unschedulable).toBe(true);
  });
  it('Node-advertised extended resources, leaving out native and Mesos-managed ones', () => {
    const v = nodeView(agent, node({ allocatable: { cpu: '4', 'example.com/widget': '3', 'nvidia.com/gpu': '2', 'hugepages-2Mi': '0' } }), false);
    expect(v.nodeExtended).toEqual({ 'example.com/widget': 3 });
    expect(v.problems).toEqual([]);
  });
  it('reports a malformed allocatable quantity and ignores it', () => {
    const v = nodeView(agent, node({ allocatable: { 'example.com/widget': 'lots' } }), false);
    expect(v.nodeExtended).toBeUndefined();
    expect(v.problems).toEqual(['status.allocatable[example.com/widget]: not a quantity: "lots"']);
  });
  it('preferAvoidPods', () => {
    const ann = JSON.stringify({ preferAvoidPods: [{ podSignature: { podController: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u1', controller: true } }, reason: 'maintenance' }] });
    expect(nodeView(agent, node({ annotations: { 'scheduler.alpha.kubernetes.io/preferAvoidPods': ann } }), false).avoidControllers).toEqual([{ kind: 'ReplicaSet', uid: 'u1' }]);
  });
});

describe('parsePreferAvoidPods', () => {
  it.each([
    ['{}', { ok: true, value: [] }],
    ['{"preferAvoidPods":[]}', { ok: true, value: [] }],
    ['nope', { ok: false, reason: 'annotation scheduler.alpha.kubernetes.io/preferAvoidPods: not JSON' }],
    ['{"preferAvoidPods":{}}', { ok: false, reason: 'annotation scheduler.alpha.kubernetes.io/preferAvoidPods: preferAvoidPods is not a list' }],
    ['{"preferAvoidPods":[{"podSignature":{}}]}', { ok: false, reason: 'annotation scheduler.alpha.kubernetes.io/preferAvoidPods: preferAvoidPods[0].podSignature.podController needs kind and uid' }],
    ['null', { ok: true, value: [] }],
  ])('%s', (text, want) => expect(parsePreferAvoidPods(text)).toEqual(want));
});

describe('a cold agent (no kubelet yet) in plan()', () => {
  it('matches nodeSelector kubernetes.io/os: linux like a warm one', () => {
    const v = nodeView(agent, undefined, false);
    const cold: AgentView = { id: agent.id, hostname: agent.hostname, zone: 'z1', region: 'r1', attributes: agent.attributes, labels: v.labels, taints: v.taints, unschedulable: false, offered: [{ role: '*', res: { cpus: 4, mem: 4096, disk: 0 }, ports: [] }], pods: [] };
    const r = plan([cold], [makePod('p').nodeSelector({ 'kubernetes.io/os': 'linux' }).build(), makePod('w').nodeSelector({ 'kubernetes.io/os': 'windows' }).build()], testConfig());
    expect(r.placements.map((p) => [p.podKey, p.newKubelet])).toEqual([['default/p', true]]);
    expect(r.unschedulable.map((u) => u.message)).toEqual(["0/1 nodes are available: 1 node(s) didn't match Pod's node affinity."]);
  });
});
