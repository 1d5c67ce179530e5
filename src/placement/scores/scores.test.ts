import { runScore } from '../testing/harness.js';
import { makeAgent, makePod, testConfig, LABEL_ZONE } from '../testing/builders.js';
import { interPodAffinityScore } from './inter-pod-affinity.js';
import { kubeletScore } from './kubelet.js';
import { nodeAffinityScore } from './node-affinity.js';
import { resourcesScore } from './resources.js';
import { taintTolerationScore } from './taint-toleration.js';
import { topologySpreadScore } from './topology-spread.js';

describe('NodeResources score', () => {
  const agents = () => [makeAgent().offer('*', { cpus: 4, mem: 4000 }).kubelet().build(), makeAgent().offer('*', { cpus: 1, mem: 1000 }).kubelet().build()];
  it.each([
    ['spread prefers the emptier agent', 'spread' as const, [75, 0]],
    ['binpack prefers the fuller agent', 'binpack' as const, [25, 100]],
  ])('%s', (_n, scoring, want) => {
    // pod takes 1 cpu and 1000 mem: free after = 3/4 and 0 of the largest agent
    expect(runScore(resourcesScore, makePod().requests({ cpus: 1, mem: 1000 }).scoring(scoring).build(), agents())).toEqual(want);
  });
});

describe('ExistingKubelet score', () => {
  const agents = () => [makeAgent().big().kubelet().build(), makeAgent().big().build()];
  it('scores agents with a kubelet 100', () => {
    expect(runScore(kubeletScore, makePod().build(), agents())).toEqual([100, 0]);
  });
  it('is off when preferExistingKubelet is false', () => {
    expect(runScore(kubeletScore, makePod().build(), agents(), testConfig({ preferExistingKubelet: false }))).toBeUndefined();
  });
});

describe('NodeAffinity score', () => {
  it('sums weights of matching preferred terms, normalised to the best', () => {
    const pod = makePod()
      .affinity({
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 10, preference: { matchExpressions: [{ key: LABEL_ZONE, operator: 'In', values: ['a'] }] } },
            { weight: 30, preference: { matchExpressions: [{ key: 'ssd', operator: 'Exists' }] } },
          ],
        },
      })
      .build();
    const agents = [makeAgent().zone('a').build(), makeAgent().zone('b').label('ssd', 'y').build(), makeAgent().zone('a').label('ssd', 'y').build(), makeAgent().zone('c').build()];
    expect(runScore(nodeAffinityScore, pod, agents)).toEqual([25, 75, 100, 0]);
  });
});

describe('TaintToleration score', () => {
  it('penalises untolerated PreferNoSchedule taints', () => {
    const agents = [
      makeAgent().build(),
      makeAgent().taint({ key: 'a', effect: 'PreferNoSchedule' }).build(),
      makeAgent().taint({ key: 'a', effect: 'PreferNoSchedule' }).taint({ key: 'b', effect: 'PreferNoSchedule' }).build(),
    ];
    expect(runScore(taintTolerationScore, makePod().build(), agents)).toEqual([100, 50, 0]);
    expect(runScore(taintTolerationScore, makePod().toleration({ key: 'a', operator: 'Exists' }).build(), agents)).toEqual([100, 100, 0]);
  });
});

describe('PodTopologySpread score', () => {
  const agents = () => [
    makeAgent('a1').zone('a').pod(makePod().owner('rs').labels({ app: 'w' })).pod(makePod().owner('rs').labels({ app: 'w' })).build(),
    makeAgent('b1').zone('b').pod(makePod().owner('rs').labels({ app: 'w' })).build(),
    makeAgent('c1').zone('c').build(),
  ];
  it('ScheduleAnyway: fewer matching pods is better', () => {
    const pod = makePod().labels({ app: 'w' }).spreadConstraint({ topologyKey: LABEL_ZONE, whenUnsatisfiable: 'ScheduleAnyway' }).build();
    expect(runScore(topologySpreadScore, pod, agents())).toEqual([0, 50, 100]);
  });
  it('DoNotSchedule only: no score', () => {
    expect(runScore(topologySpreadScore, makePod().labels({ app: 'w' }).spreadConstraint({ topologyKey: LABEL_ZONE }).build(), agents())).toBeUndefined();
  });
  it('system default spreading of siblings under spread scoring', () => {
    expect(runScore(topologySpreadScore, makePod().owner('rs').build(), agents())).toEqual([0, 50, 100]);
    expect(runScore(topologySpreadScore, makePod().owner('rs').scoring('binpack').build(), agents())).toBeUndefined();
    expect(runScore(topologySpreadScore, makePod().build(), agents())).toBeUndefined();
  });
});

describe('InterPodAffinity score', () => {
  it('weighs preferred affinity up and anti-affinity down', () => {
    const agents = [
      makeAgent('a1').zone('a').pod(makePod().labels({ app: 'db' })).build(),
      makeAgent('a2').zone('a').pod(makePod().labels({ app: 'noisy' })).build(),
      makeAgent('b1').zone('b').build(),
    ];
    const pod = makePod()
      .affinity({
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: LABEL_ZONE } }] },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'noisy' } }, topologyKey: 'kubernetes.io/hostname' } }],
        },
      })
      .build();
    // raw: a1 = 50, a2 = 50 - 100 = -50, b1 = 0
    expect(runScore(interPodAffinityScore, pod, agents)).toEqual([100, 0, 50]);
  });
});
