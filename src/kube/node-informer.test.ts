import type { V1Node } from '@kubernetes/client-node';
import { ResilientInformer } from './informer.js';
import { KubeMesosNodes, schedulingSignature, type NodeChange } from './node-informer.js';
import { until } from '../../test/support/until.js';
import { FakeListWatch } from './testing/fake-source.js';

const node = (name: string, agentId: string | undefined, over: Partial<{ labels: Record<string, string>; unschedulable: boolean; heartbeat: string }> = {}): V1Node => ({
  metadata: { name, labels: { ...(agentId ? { 'kube-mesos.io/agent-id': agentId } : {}), ...over.labels } },
  spec: { unschedulable: over.unschedulable },
  status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: over.heartbeat as unknown as Date }] },
});

function setup() {
  const src = new FakeListWatch<V1Node>();
  const nodes = new KubeMesosNodes(new ResilientInformer<V1Node>(src, { freeze: true, backoff: { initialMs: 1, maxMs: 20, random: () => 0.5 } }));
  const changes: string[] = [];
  nodes.onChange((c: NodeChange) => changes.push(`${c.agentId} ${c.nodeName} ${c.node ? 'set' : 'gone'}`));
  return { src, nodes, changes };
}

describe('KubeMesosNodes', () => {
  it('indexes Nodes by agent and name; reports cordon and label changes, not heartbeats', async () => {
    const { src, nodes, changes } = setup();
    src.upsert(node('h1', 'a1'));
    nodes.start();
    await nodes.ready;
    await until(() => src.activeWatches === 1, 'watch');
    expect(nodes.byAgent('a1')?.metadata?.name).toBe('h1');
    expect(nodes.agentOf('h1')).toBe('a1');
    src.upsert(node('h1', 'a1', { heartbeat: '2026-01-01T00:00:10Z' }));
    src.upsert(node('h1', 'a1', { unschedulable: true }));
    src.upsert(node('h1', 'a1', { unschedulable: true, labels: { disk: 'ssd' } }));
    src.remove('h1');
    await until(() => changes.length === 4, 'changes');
    expect(changes).toEqual(['a1 h1 set', 'a1 h1 set', 'a1 h1 set', 'a1 h1 gone']);
    expect(nodes.byAgent('a1')).toBeUndefined();
    expect(nodes.agentOf('h1')).toBeUndefined();
    await nodes.stop();
  });

  it('ignores Nodes without the agent label and follows a Node that changes agent', async () => {
    const { src, nodes, changes } = setup();
    nodes.start();
    await nodes.ready;
    await until(() => src.activeWatches === 1, 'watch');
    src.upsert(node('other', undefined));
    src.upsert(node('h1', 'a1'));
    src.upsert(node('h1', 'a2'));
    await until(() => changes.length === 3, 'changes');
    expect(changes).toEqual(['a1 h1 set', 'a1 h1 gone', 'a2 h1 set']);
    expect(nodes.size).toBe(1);
    await nodes.stop();
  });
});

describe('schedulingSignature', () => {
  it('changes with what placement reads only', () => {
    const base = node('h', 'a');
    expect(schedulingSignature(node('h', 'a', { heartbeat: 'x' }))).toBe(schedulingSignature(base));
    expect(schedulingSignature(node('h', 'a', { unschedulable: true }))).not.toBe(schedulingSignature(base));
    expect(schedulingSignature({ ...base, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } })).not.toBe(schedulingSignature(base));
    expect(schedulingSignature({ ...base, status: { allocatable: { 'example.com/widget': '3' } } })).not.toBe(schedulingSignature(base));
  });
});
