import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, testConfig } from '../testing/builders.js';
import { fitFilter } from './fit.js';

describe('NodeResourcesFit', () => {
  const exec = testConfig({ executor: { cpus: 0.5, mem: 100, disk: 10 } });
  it.each([
    ['fits', makePod().requests({ cpus: 1, mem: 100 }), makeAgent().offer('*', { cpus: 1, mem: 100 }).kubelet(), undefined],
    ['cpus short', makePod().requests({ cpus: 1.5 }), makeAgent().offer('*', { cpus: 1, mem: 1000 }).kubelet(), 'Insufficient cpu'],
    ['all short', makePod().requests({ cpus: 2, mem: 2000, disk: 5 }), makeAgent().offer('*', { cpus: 1, mem: 1000 }).kubelet(), 'Insufficient cpu; Insufficient memory; Insufficient ephemeral-storage'],
    ['executor charged without kubelet', makePod().requests({ cpus: 1, mem: 100 }), makeAgent().offer('*', { cpus: 1.2, mem: 1000, disk: 10 }), 'Insufficient cpu'],
    ['executor fits', makePod().requests({ cpus: 1, mem: 100 }), makeAgent().offer('*', { cpus: 1.5, mem: 200, disk: 10 }), undefined],
    ['float sums are exact', makePod().requests({ cpus: 0.3, mem: 0 }), makeAgent().offer('*', { cpus: 0.1 }).offer('*', { cpus: 0.2 }).kubelet(), undefined],
    ['no offer for role', makePod().roles('prod'), makeAgent().offer('*', { cpus: 4, mem: 4000 }).kubelet(), "node(s) had no offers for the pod's roles"],
    ['reservation for role', makePod().roles('prod'), makeAgent().offer('prod', { cpus: 4, mem: 4000 }).kubelet(), undefined],
    ['default roles exclude reservations', makePod(), makeAgent().offer('prod', { cpus: 4, mem: 4000 }).kubelet(), "node(s) had no offers for the pod's roles"],
    ['roles are not pooled', makePod().roles('prod', '*').requests({ cpus: 2 }), makeAgent().offer('prod', { cpus: 1, mem: 4000 }).offer('*', { cpus: 1, mem: 4000 }).kubelet(), 'Insufficient cpu'],
    ['port in range', makePod().hostPort(31005), makeAgent().offer('*', { cpus: 1, mem: 1000 }, [[31000, 31010]]).kubelet(), undefined],
    ['port outside range', makePod().hostPort(80), makeAgent().offer('*', { cpus: 1, mem: 1000 }, [[31000, 31010]]).kubelet(), 'Insufficient ports'],
    ['too many pods', makePod(), makeAgent().offer('*', { cpus: 1, mem: 1000 }).kubelet(3, 3), 'Too many pods'],
  ])('%s', (_name, pod, agent, want) => {
    expect(runFilter(fitFilter, pod.build(), [agent.build()], exec)).toEqual([want]);
  });

  it('limits a new kubelet to maxPodsPerKubelet', () => {
    expect(runFilter(fitFilter, makePod().build(), [makeAgent().big().build()], testConfig({ maxPodsPerKubelet: 0 }))).toEqual(['Too many pods']);
  });
});
