// Delay scheduling for a pod's own preferences (placement/preferences.ts, cycle.ts waitForPreferredAgents): a pod whose
// PreferNoSchedule taints or preferred node affinity rank an agent not offered right now first waits for that agent.
import type { V1Node, V1Taint } from '@kubernetes/client-node';
import { aPod, anOffer } from './testing/builders.js';
import { coreHarness } from './testing/core-harness.js';

const node = (agent: string, taints: V1Taint[], labels: Record<string, string> = {}): V1Node => ({
  metadata: { name: `${agent}.example`, labels: { 'kubernetes.io/hostname': `${agent}.example`, ...labels } },
  spec: { taints },
});
const slow: V1Taint[] = [{ key: 'slow', value: 'yes', effect: 'PreferNoSchedule' }];

/** a1 and a2 carry a PreferNoSchedule taint, a3 none; p0 went to a3, so a3's rest is with Mesos when p1 comes. */
async function setup(over: Parameters<typeof coreHarness>[0] = {}) {
  const h = coreHarness({ preferenceWaitMs: 3000, ...over });
  const { core, mesos } = h;
  await core.drain();
  core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build(), anOffer('a3').zone('z3').build()]);
  core.onNodeChange({ agentId: 'a1', nodeName: 'a1.example', node: node('a1', slow) });
  core.onNodeChange({ agentId: 'a2', nodeName: 'a2.example', node: node('a2', slow) });
  core.onNodeChange({ agentId: 'a3', nodeName: 'a3.example', node: node('a3', []) });
  core.onPodUpsert(aPod('p0').build());
  expect(core.runCycle()).toMatchObject({ placed: 1 });
  await core.drain();
  expect(mesos.tasks().map((t) => t.agent_id.value)).toEqual(['a3']);
  return h;
}

describe('a pod whose preferences rank an agent not offered right now first', () => {
  it('waits for that agent\'s offer and lands there', async () => {
    const { core, mesos, advance } = await setup();
    advance(200);
    core.onPodUpsert(aPod('p1').build());
    expect(core.runCycle()).toMatchObject({ placed: 0 });
    await core.drain();
    expect(mesos.tasks()).toHaveLength(1);
    // a3's rest comes back at the next allocation: p1 goes there.
    advance(1000);
    core.onOffers([anOffer('a3').zone('z3').build()]);
    expect(core.runCycle()).toMatchObject({ placed: 1 });
    await core.drain();
    expect(mesos.tasks().map((t) => t.agent_id.value)).toEqual(['a3', 'a3']);
  });

  it('waits preferenceWaitMs at most, then takes what is offered', async () => {
    const { core, mesos, advance } = await setup();
    advance(200);
    core.onPodUpsert(aPod('p1').build());
    expect(core.runCycle()).toMatchObject({ placed: 0 });
    advance(2999);
    expect(core.runCycle()).toMatchObject({ placed: 0 });
    advance(1);
    expect(core.runCycle()).toMatchObject({ placed: 1 });
    await core.drain();
    expect(mesos.tasks().map((t) => t.agent_id.value)[1]).toMatch(/^a[12]$/);
  });

  it('clears the filters that keep the agent away with a REVIVE (at most one per 5 s)', async () => {
    const { core, mesos, advance } = await setup({ offerHoldMs: 60_000 });
    advance(6000);
    const revives = mesos.revives;
    core.onPodUpsert(aPod('p1').build());
    expect(core.runCycle()).toMatchObject({ placed: 0 });
    await core.drain();
    expect(mesos.revives).toBe(revives + 1);
    advance(100);
    expect(core.runCycle()).toMatchObject({ placed: 0 });
    await core.drain();
    expect(mesos.revives).toBe(revives + 1);
  });

  it('does not wait for an agent that had no room left for it, nor with preferenceWaitMs 0', async () => {
    const full = await setup();
    full.advance(200);
    full.core.onPodUpsert(aPod('big').cpu('3.5').build()); // a3 had 4 cpus, p0 and its kubelet took 0.35
    expect(full.core.runCycle()).toMatchObject({ placed: 1 });

    const off = await setup({ preferenceWaitMs: 0 });
    off.advance(200);
    off.core.onPodUpsert(aPod('p1').build());
    expect(off.core.runCycle()).toMatchObject({ placed: 1 });
  });

  it('does not wait when the pod likes the offered agents as much (it tolerates the taint)', async () => {
    const { core, advance } = await setup();
    advance(200);
    core.onPodUpsert(aPod('p1').spec({ tolerations: [{ key: 'slow', operator: 'Exists', effect: 'PreferNoSchedule' }] }).build());
    expect(core.runCycle()).toMatchObject({ placed: 1 });
  });

  it('waits for the agent its preferred node affinity names', async () => {
    const h = coreHarness({ preferenceWaitMs: 3000 });
    await h.core.drain();
    h.core.onOffers([anOffer('a1').zone('z1').build(), anOffer('a2').zone('z2').build()]);
    h.core.onNodeChange({ agentId: 'a1', nodeName: 'a1.example', node: node('a1', []) });
    h.core.onNodeChange({ agentId: 'a2', nodeName: 'a2.example', node: node('a2', [], { disk: 'ssd' }) });
    const ssd = { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } };
    h.core.onPodUpsert(aPod('q0').spec({ affinity: ssd }).build());
    expect(h.core.runCycle()).toMatchObject({ placed: 1 });
    await h.core.drain();
    h.advance(200);
    h.core.onPodUpsert(aPod('q1').spec({ affinity: ssd }).build());
    expect(h.core.runCycle()).toMatchObject({ placed: 0 });
    h.advance(1000);
    h.core.onOffers([anOffer('a2').zone('z2').build()]);
    expect(h.core.runCycle()).toMatchObject({ placed: 1 });
    await h.core.drain();
    expect(h.mesos.tasks().map((t) => t.agent_id.value)).toEqual(['a2', 'a2']);
  });
});
