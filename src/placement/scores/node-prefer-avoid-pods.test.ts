import { plan } from '../plan.js';
import { runScore } from '../testing/harness.js';
import { makeAgent, makePod, testConfig } from '../testing/builders.js';
import { nodePreferAvoidPodsScore } from './node-prefer-avoid-pods.js';

describe('NodePreferAvoidPods', () => {
  const agents = () => [makeAgent().big().avoid('ReplicaSet', 'rs-1').build(), makeAgent().big().avoid('ReplicationController', 'rc-1').build(), makeAgent().big().build()];
  it.each([
    ['ReplicaSet named', makePod().owner('rs-1', 'ReplicaSet'), [0, 100, 100]],
    ['ReplicationController named', makePod().owner('rc-1', 'ReplicationController'), [100, 0, 100]],
    ['other ReplicaSet', makePod().owner('rs-2', 'ReplicaSet'), [100, 100, 100]],
    // kube-scheduler 1.20 steers only ReplicationController and ReplicaSet pods
    ['StatefulSet with a named uid', makePod().owner('rs-1', 'StatefulSet'), undefined],
    ['bare pod', makePod(), undefined],
  ])('%s', (_n, pod, want) => {
    expect(runScore(nodePreferAvoidPodsScore, pod.build(), agents())).toEqual(want);
  });

  it('does not apply when no Node names a controller', () => {
    expect(runScore(nodePreferAvoidPodsScore, makePod().owner('rs-1', 'ReplicaSet').build(), [makeAgent().big().build()])).toBeUndefined();
  });

  it("plan() puts no pod of the named ReplicaSet on that agent while others have room, and uses it when they have none", () => {
    const avoided = makeAgent('avoided').offer('*', { cpus: 8, mem: 16384 }).avoid('ReplicaSet', 'rs-1').kubelet().build();
    const other = makeAgent('other').offer('*', { cpus: 1, mem: 1024 }).kubelet().build();
    const pods = [1, 2, 3].map((i) => makePod(`p${i}`).owner('rs-1', 'ReplicaSet').requests({ cpus: 0.4, mem: 256 }).build());
    const r = plan([avoided, other], pods, testConfig());
    expect(r.placements.map((p) => p.agentId)).toEqual(['other', 'other', 'avoided']);
  });
});
