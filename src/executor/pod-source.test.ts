import { describe, expect, it } from '@jest/globals';
import { FakeCluster } from './fake-cluster.js';
import { InformerPodSource, type PodEvent } from './pod-source.js';

const seen = (events: PodEvent[]) => events.map((e) => `${e.type} ${e.pod.metadata?.name}`);

describe('InformerPodSource', () => {
  it('dispatches by node: unbound pods to nobody, the binding update as an add, then updates and deletes', async () => {
    const cluster = new FakeCluster();
    const source = new InformerPodSource(cluster);
    const a: PodEvent[] = [];
    const b: PodEvent[] = [];
    source.watchNode('node-a', (e) => a.push(e));
    source.watchNode('node-b', (e) => b.push(e));
    const p = cluster.addPod('ns', 'p1');
    cluster.addPod('ns', 'p2', { nodeName: 'node-b' });
    expect(seen(a)).toEqual([]);
    await cluster.bindPod({ namespace: 'ns', name: 'p1', uid: p.metadata!.uid! }, 'node-a', {});
    await cluster.patchPodStatus('ns', 'p1', { phase: 'Running' });
    cluster.removePod('ns/p1');
    expect(seen(a)).toEqual(['add p1', 'update p1', 'delete p1']);
    expect(seen(b)).toEqual(['add p2']);
    expect(source.podsOnNode('node-a')).toEqual([]);
    expect(source.podsOnNode('node-b').map((x) => x.metadata?.name)).toEqual(['p2']);
  });

  it('a late subscriber first gets the pods already on its node; unsubscribe stops delivery', () => {
    const cluster = new FakeCluster();
    const source = new InformerPodSource(cluster);
    cluster.addPod('ns', 'p1', { nodeName: 'n' });
    cluster.addPod('ns', 'p2', { nodeName: 'n' });
    const got: PodEvent[] = [];
    const off = source.watchNode('n', (e) => got.push(e));
    expect(seen(got)).toEqual(['add p1', 'add p2']);
    off();
    cluster.addPod('ns', 'p3', { nodeName: 'n' });
    expect(got).toHaveLength(2);
    expect(source.subscribedNodes).toBe(0);
  });

  it('several handlers per node (executor + hollow kubelet); one throwing does not starve the other', () => {
    const cluster = new FakeCluster();
    const source = new InformerPodSource(cluster);
    const got: string[] = [];
    source.watchNode('n', () => {
      throw new Error('boom');
    });
    source.watchNode('n', (e) => got.push(e.pod.metadata!.name!));
    cluster.addPod('ns', 'p1', { nodeName: 'n' });
    expect(got).toEqual(['p1']);
  });
});
