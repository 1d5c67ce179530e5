import { runScore } from '../testing/harness.js';
import { makeAgent, makePod } from '../testing/builders.js';
import { balancedAllocationScore } from './balanced-allocation.js';

// kube-scheduler 1.20: (1 − |cpu fraction − memory fraction|) · 100 after the pod; 0 once either reaches 1.
describe('NodeResourcesBalancedAllocation', () => {
  it.each([
    // capacity 4 cpus / 4096 MB, nothing used: pod 1 cpu + 1024 MB → 0.25 / 0.25 → 100
    ['balanced pod on an empty agent', makePod().requests({ cpus: 1, mem: 1024 }), makeAgent().offer('*', { cpus: 4, mem: 4096 }).kubelet().capacity(4, 4096), 100],
    // 1 cpu + 0 MB → 0.25 / 0 → 75
    ['cpu-only pod', makePod().requests({ cpus: 1, mem: 0 }), makeAgent().offer('*', { cpus: 4, mem: 4096 }).kubelet().capacity(4, 4096), 75],
    // 2 of 4 cpus already used (free 2): pod 0 cpu + 2048 MB → 0.5 / 0.5 → 100
    ['pod that evens out the agent', makePod().requests({ cpus: 0, mem: 2048 }), makeAgent().offer('*', { cpus: 2, mem: 4096 }).kubelet().capacity(4, 4096), 100],
    ['pod that fills cpu', makePod().requests({ cpus: 4, mem: 1024 }), makeAgent().offer('*', { cpus: 4, mem: 4096 }).kubelet().capacity(4, 4096), 0],
    // no capacity given: offered (3 cpus, 3072) + a placed pod's requests (1 cpu, 1024) = 4 / 4096; after 1 cpu, 0 MB → 0.5 / 0.25 → 75
    [
      'capacity from offers and placed pods',
      makePod().requests({ cpus: 1, mem: 0 }),
      makeAgent().offer('*', { cpus: 3, mem: 3072 }).kubelet().pod(makePod().requests({ cpus: 1, mem: 1024 })),
      75,
    ],
  ])('%s', (_n, pod, agent, want) => {
    expect(runScore(balancedAllocationScore, pod.build(), [agent.build()])).toEqual([want]);
  });

  it('prefers the agent where the pod balances cpu and memory', () => {
    const pod = makePod().requests({ cpus: 1, mem: 0 }).build();
    const cpuHeavy = makeAgent().offer('*', { cpus: 2, mem: 4096 }).kubelet().capacity(4, 4096).build(); // 0.75 / 0 → 25
    const memHeavy = makeAgent().offer('*', { cpus: 4, mem: 2048 }).kubelet().capacity(4, 4096).build(); // 0.25 / 0.5 → 75
    expect(runScore(balancedAllocationScore, pod, [cpuHeavy, memHeavy])).toEqual([25, 75]);
  });
});
