import { plan } from '../plan.js';
import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, testConfig, LABEL_HOSTNAME, LABEL_ZONE } from '../testing/builders.js';
import { topologySpreadFilter, REASON_SPREAD, REASON_SPREAD_LABEL } from './topology-spread.js';
import type { AgentView } from '../types.js';

const web = () => makePod().labels({ app: 'web' });

/** Agents a1 (zone a, n pods of app=web), b1 (zone b, m pods), c1 (zone c, k pods). */
function zones(a: number, b: number, c: number, extra: AgentView[] = []): AgentView[] {
  const mk = (id: string, z: string, n: number) => {
    const ag = makeAgent(id).zone(z).big().kubelet();
    for (let i = 0; i < n; i++) ag.pod(web());
    return ag.build();
  };
  return [mk('a1', 'a', a), mk('b1', 'b', b), mk('c1', 'c', c), ...extra];
}

describe('PodTopologySpread filter', () => {
  it.each([
    ['balanced: all pass', [1, 1, 1], {}, [undefined, undefined, undefined]],
    ['skew 1 blocks the fuller zones', [2, 1, 1], {}, [REASON_SPREAD, undefined, undefined]],
    ['maxSkew 2 allows', [2, 1, 1], { maxSkew: 2 }, [undefined, undefined, undefined]],
    ['empty zone is the min', [1, 1, 0], {}, [REASON_SPREAD, REASON_SPREAD, undefined]],
    ['ScheduleAnyway never filters', [5, 0, 0], { whenUnsatisfiable: 'ScheduleAnyway' }, [undefined, undefined, undefined]],
    ['minDomains above domain count: min is 0', [1, 1, 1], { minDomains: 4 }, [REASON_SPREAD, REASON_SPREAD, REASON_SPREAD]],
    ['minDomains met', [1, 1, 1], { minDomains: 3 }, [undefined, undefined, undefined]],
  ])('%s', (_n, [a, b, c], opts, want) => {
    const pod = web().spreadConstraint({ topologyKey: LABEL_ZONE, ...opts }).build();
    expect(runFilter(topologySpreadFilter, pod, zones(a, b, c))).toEqual(want);
  });

  it('does not count itself when its selector does not match it', () => {
    const pod = makePod().labels({ app: 'other' }).spreadConstraint({ topologyKey: LABEL_ZONE, labelSelector: { matchLabels: { app: 'web' } } }).build();
    // a pod its selector does not match adds nothing: count - min <= maxSkew suffices
    expect(runFilter(topologySpreadFilter, pod, zones(2, 1, 1))).toEqual([undefined, undefined, undefined]);
    expect(runFilter(topologySpreadFilter, pod, zones(3, 1, 1))).toEqual([REASON_SPREAD, undefined, undefined]);
  });

  it('counts only the pod namespace', () => {
    const other = makeAgent('a1').zone('a').big().kubelet().pod(makePod().namespace('prod').labels({ app: 'web' })).build();
    const pod = web().spreadConstraint({ topologyKey: LABEL_ZONE }).build();
    const agents = [other, makeAgent('b1').zone('b').big().build()];
    expect(runFilter(topologySpreadFilter, pod, agents)).toEqual([undefined, undefined]);
  });

  it('an agent without the key is unresolvable', () => {
    const pod = web().spreadConstraint({ topologyKey: 'rack' }).build();
    expect(runFilter(topologySpreadFilter, pod, [makeAgent().label('rack', 'r1').build(), makeAgent().build()])).toEqual([undefined, `!${REASON_SPREAD_LABEL}`]);
  });

  it('nodeAffinityPolicy Honor (default) ignores domains the pod cannot go to', () => {
    // zone c is excluded by the pod's nodeSelector: its 0 pods do not make it the min
    const pod = web().nodeSelector({ pool: 'x' }).spreadConstraint({ topologyKey: LABEL_ZONE }).build();
    const mk = (id: string, z: string, n: number, pool?: string) => {
      const ag = makeAgent(id).zone(z).big();
      if (pool) ag.label('pool', pool);
      for (let i = 0; i < n; i++) ag.pod(web());
      return ag.build();
    };
    const agents = [mk('a1', 'a', 1, 'x'), mk('b1', 'b', 1, 'x'), mk('c1', 'c', 0)];
    expect(runFilter(topologySpreadFilter, pod, agents)).toEqual([undefined, undefined, undefined]);
    const ignore = web().nodeSelector({ pool: 'x' }).spreadConstraint({ topologyKey: LABEL_ZONE, nodeAffinityPolicy: 'Ignore' }).build();
    expect(runFilter(topologySpreadFilter, ignore, agents)).toEqual([REASON_SPREAD, REASON_SPREAD, undefined]);
  });

  it('matchLabelKeys narrows the selector to the pod-template-hash of the pod', () => {
    const agents = [
      makeAgent('a1').zone('a').big().pod(makePod().labels({ app: 'web', hash: 'old' })).pod(makePod().labels({ app: 'web', hash: 'old' })).build(),
      makeAgent('b1').zone('b').big().build(),
    ];
    const base = makePod().labels({ app: 'web', hash: 'new' });
    const plain = base.spreadConstraint({ topologyKey: LABEL_ZONE, labelSelector: { matchLabels: { app: 'web' } } }).build();
    expect(runFilter(topologySpreadFilter, plain, agents)).toEqual([REASON_SPREAD, undefined]);
    const keyed = makePod().labels({ app: 'web', hash: 'new' }).spreadConstraint({ topologyKey: LABEL_ZONE, labelSelector: { matchLabels: { app: 'web' } }, matchLabelKeys: ['hash'] }).build();
    expect(runFilter(topologySpreadFilter, keyed, agents)).toEqual([undefined, undefined]);
  });

  it('pods of one plan see each other (hostname spread)', () => {
    const agents = ['h1', 'h2', 'h3'].map((h) => makeAgent(h).zone('a').big().build());
    const pods = Array.from({ length: 7 }, (_, i) => makePod(`w${i}`).labels({ app: 'web' }).spreadConstraint({ topologyKey: LABEL_HOSTNAME }).scoring('binpack').build());
    const p = plan(agents, pods, testConfig());
    const per = new Map<string, number>();
    for (const x of p.placements) per.set(x.agentId, (per.get(x.agentId) ?? 0) + 1);
    expect([...per.values()].sort()).toEqual([2, 2, 3]);
  });
});
