import { plan } from '../plan.js';
import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, testConfig } from '../testing/builders.js';
import { fitFilter } from './fit.js';
import { isExtendedResourceName } from './extended-resources.js';

const GPU = 'nvidia.com/gpu';
const WIDGET = 'example.com/widget';

describe('extended resources in NodeResourcesFit', () => {
  it.each([
    ['gpu offered', makePod().extended(GPU, 1), makeAgent().big().scalar('gpus', 2).kubelet(), undefined],
    ['gpu all of it', makePod().extended(GPU, 2), makeAgent().big().scalar('gpus', 2).kubelet(), undefined],
    ['gpu short', makePod().extended(GPU, 3), makeAgent().big().scalar('gpus', 2).kubelet(), `Insufficient ${GPU}`],
    ['no gpus offered', makePod().extended(GPU, 1), makeAgent().big().kubelet(), `Insufficient ${GPU}`],
    ['cpu and gpu short, kube order', makePod().requests({ cpus: 8 }).extended(GPU, 1), makeAgent().big().kubelet(), `Insufficient cpu; Insufficient ${GPU}`],
    ['gpus in another role only', makePod().extended(GPU, 1), makeAgent().big().offer('gpu-team', { cpus: 1, mem: 1024 }, [], { gpus: 4 }).kubelet(), `Insufficient ${GPU}`],
    ['gpus in the pod role', makePod().roles('gpu-team').extended(GPU, 1), makeAgent().offer('gpu-team', { cpus: 1, mem: 1024 }, [], { gpus: 4 }).kubelet(), undefined],
    ['widget advertised', makePod().extended(WIDGET, 1), makeAgent().big().nodeExtended(WIDGET, 3).kubelet(), undefined],
    ['widget not advertised', makePod().extended(WIDGET, 1), makeAgent().big().kubelet(), `Insufficient ${WIDGET}`],
    ['widgets taken by bound pods', makePod().extended(WIDGET, 2), makeAgent().big().nodeExtended(WIDGET, 3).kubelet().pod(makePod().extended(WIDGET, 2)), `Insufficient ${WIDGET}`],
    ['widget left by bound pods', makePod().extended(WIDGET, 1), makeAgent().big().nodeExtended(WIDGET, 3).kubelet().pod(makePod().extended(WIDGET, 2)), undefined],
    ['widget short, cpus fine, no offers for role', makePod().roles('x').extended(WIDGET, 1), makeAgent().big().kubelet(), `node(s) had no offers for the pod's roles; Insufficient ${WIDGET}`],
    ['no extended request', makePod(), makeAgent().big().kubelet(), undefined],
  ])('%s', (_n, pod, agent, want) => {
    expect(runFilter(fitFilter, pod.build(), [agent.build()])).toEqual([want]);
  });

  it('maps other Mesos scalars by configuration', () => {
    const cfg = testConfig({ extendedResources: { 'example.com/fpga': 'fpgas' } });
    const agent = makeAgent().big().scalar('fpgas', 1).kubelet().build();
    expect(runFilter(fitFilter, makePod().extended('example.com/fpga', 1).build(), [agent], cfg)).toEqual([undefined]);
    // nvidia.com/gpu is no longer Mesos-managed under this mapping: the Node would have to advertise it
    expect(runFilter(fitFilter, makePod().extended(GPU, 1).build(), [makeAgent().big().scalar('gpus', 1).kubelet().build()], cfg)).toEqual([`Insufficient ${GPU}`]);
  });

  it('plan() takes gpus for the task from the offer and leaves the fourth widget pod pending', () => {
    const agents = [makeAgent('gpu').big().scalar('gpus', 1).nodeExtended(WIDGET, 3).kubelet().build(), makeAgent('plain').big().kubelet().build()];
    const pods = [makePod('g1').extended(GPU, 1), makePod('g2').extended(GPU, 1), ...[1, 2, 3, 4].map((i) => makePod(`w${i}`).extended(WIDGET, 1))].map((p) => p.build());
    const r = plan(agents, pods, testConfig());
    expect(r.placements.map((p) => [p.podKey, p.agentId, p.scalars])).toEqual([
      ['default/g1', 'gpu', { gpus: 1 }],
      ['default/w1', 'gpu', undefined],
      ['default/w2', 'gpu', undefined],
      ['default/w3', 'gpu', undefined],
    ]);
    expect(r.unschedulable.map((u) => [u.podKey, u.message])).toEqual([
      ['default/g2', `0/2 nodes are available: 2 Insufficient ${GPU}.`],
      ['default/w4', `0/2 nodes are available: 2 Insufficient ${WIDGET}.`],
    ]);
  });
});

describe('isExtendedResourceName', () => {
  it.each([
    ['nvidia.com/gpu', true],
    ['example.com/widget', true],
    ['cpu', false],
    ['hugepages-2Mi', false],
    ['kubernetes.io/something', false],
    ['requests.example.com/x', false],
  ])('%s', (name, want) => expect(isExtendedResourceName(name)).toBe(want));
});
