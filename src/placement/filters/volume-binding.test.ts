import { plan } from '../plan.js';
import { makeAgent, makePod, testConfig } from '../testing/builders.js';
import { runFilter } from '../testing/harness.js';
import type { PodClaimView } from '../types.js';
import { REASON_NODE_CONFLICT, REASON_NOT_ENOUGH_SPACE, REASON_UNBOUND_IMMEDIATE, REASON_VOLUME_NOT_OFFERED, volumeBindingFilter } from './volume-binding.js';

// '!' marks an unresolvable reason (freeing resources on the agent would not help), as the harness prints it.
const zoneAffinity = (zone: string): PodClaimView['nodeAffinity'] => ({
  nodeSelectorTerms: [{ matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: [zone] }] }],
});

describe('VolumeBinding', () => {
  const a1 = makeAgent('a1').zone('a').offer('*', { cpus: 4, mem: 4096, disk: 1000 }).volume('pv-1').build();
  const a2 = makeAgent('a2').zone('b').offer('*', { cpus: 4, mem: 4096, disk: 200 }).build();

  it.each<[string, PodClaimView[], (string | undefined)[]]>([
    ['no claims', [], [undefined, undefined]],
    ['a missing claim fails everywhere', [{ name: 'data', phase: 'missing' }], ['!persistentvolumeclaim "data" not found', '!persistentvolumeclaim "data" not found']],
    ['an unbound Immediate claim fails everywhere', [{ name: 'data', phase: 'unbound' }], [`!${REASON_UNBOUND_IMMEDIATE}`, `!${REASON_UNBOUND_IMMEDIATE}`]],
    ['a bound local PV restricts to its zone', [{ name: 'data', phase: 'bound', nodeAffinity: zoneAffinity('b') }], [`!${REASON_NODE_CONFLICT}`, undefined]],
    ['a bound PV without node affinity fits anywhere', [{ name: 'data', phase: 'bound' }], [undefined, undefined]],
    ['a claim bound to a Mesos volume pins the pod to its agent', [{ name: 'data', phase: 'bound', mesos: { agentId: 'a1', persistenceId: 'pv-1' } }], [undefined, `!${REASON_NODE_CONFLICT}`]],
    ['the Mesos volume not offered: the pod waits (resolvable)', [{ name: 'data', phase: 'bound', mesos: { agentId: 'a1', persistenceId: 'pv-2' } }], [REASON_VOLUME_NOT_OFFERED, `!${REASON_NODE_CONFLICT}`]],
    ['a new Mesos volume needs its size in offered disk', [{ name: 'data', phase: 'provision', storageMb: 500 }], [undefined, REASON_NOT_ENOUGH_SPACE]],
    ['two new volumes add up', [{ name: 'd1', phase: 'provision', storageMb: 600 }, { name: 'd2', phase: 'provision', storageMb: 600 }], [REASON_NOT_ENOUGH_SPACE, REASON_NOT_ENOUGH_SPACE]],
  ])('%s', (_n, claims, want) => {
    const pod = makePod();
    for (const c of claims) pod.claim(c);
    expect(runFilter(volumeBindingFilter, pod.build(), [a1, a2])).toEqual(want);
  });

  it("the pod's own disk request counts beside the new volume", () => {
    const pod = makePod().requests({ disk: 100 }).claim({ name: 'data', phase: 'provision', storageMb: 150 }).build();
    expect(runFilter(volumeBindingFilter, pod, [a2])).toEqual([REASON_NOT_ENOUGH_SPACE]);
  });

  it("disk reserved for another role does not count; the pod's roles do", () => {
    const agent = makeAgent('r').offer('*', { cpus: 4, mem: 4096, disk: 100 }).offer('web', { disk: 400 }).build();
    const claim: PodClaimView = { name: 'data', phase: 'provision', storageMb: 450 };
    expect(runFilter(volumeBindingFilter, makePod().claim(claim).build(), [agent])).toEqual([REASON_NOT_ENOUGH_SPACE]);
    expect(runFilter(volumeBindingFilter, makePod().roles('web', '*').claim(claim).build(), [agent])).toEqual([undefined]);
  });

  it('plan() places a pod with a bound Mesos volume only on its agent, and says why it waits while the volume is not offered', () => {
    const claim: PodClaimView = { name: 'data', phase: 'bound', mesos: { agentId: 'a1', persistenceId: 'pv-1' } };
    const p = plan([a2, a1], [makePod('web-0').claim(claim).build()], testConfig());
    expect(p.placements.map((x) => x.agentId)).toEqual(['a1']);
    const away = makeAgent('a1').zone('a').offer('*', { cpus: 4, mem: 4096, disk: 1000 }).build();
    const waiting = plan([a2, away], [makePod('web-0').claim(claim).build()], testConfig());
    expect(waiting.placements).toEqual([]);
    expect(waiting.unschedulable[0].message).toBe(`0/2 nodes are available: 1 ${REASON_VOLUME_NOT_OFFERED}, 1 ${REASON_NODE_CONFLICT}.`);
    expect(waiting.unschedulable[0].unresolvable).toBe(false);
  });
});
