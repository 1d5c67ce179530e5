import { plan } from '../plan.js';
import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, testConfig, LABEL_HOSTNAME, LABEL_ZONE } from '../testing/builders.js';
import { interPodAffinityFilter, REASON_AFFINITY, REASON_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY } from './inter-pod-affinity.js';

const term = (app: string, topologyKey: string, extra: object = {}) => ({ labelSelector: { matchLabels: { app } }, topologyKey, ...extra });

describe('InterPodAffinity filter', () => {
  // a1, a2 in zone a (a1 runs a db pod), b1 in zone b
  const agents = () => [
    makeAgent('a1').zone('a').big().pod(makePod().labels({ app: 'db' })).build(),
    makeAgent('a2').zone('a').big().build(),
    makeAgent('b1').zone('b').big().build(),
  ];
  it.each([
    ['affinity hostname', makePod().podAffinity(term('db', LABEL_HOSTNAME)), [undefined, `!${REASON_AFFINITY}`, `!${REASON_AFFINITY}`]],
    ['affinity zone', makePod().podAffinity(term('db', LABEL_ZONE)), [undefined, undefined, `!${REASON_AFFINITY}`]],
    ['anti-affinity hostname', makePod().antiAffinity(term('db', LABEL_HOSTNAME)), [REASON_ANTI_AFFINITY, undefined, undefined]],
    ['anti-affinity zone', makePod().antiAffinity(term('db', LABEL_ZONE)), [REASON_ANTI_AFFINITY, REASON_ANTI_AFFINITY, undefined]],
    ['anti-affinity on a label agents lack', makePod().antiAffinity(term('db', 'rack')), [undefined, undefined, undefined]],
    ['other namespace not selected', makePod().namespace('x').antiAffinity(term('db', LABEL_HOSTNAME)), [undefined, undefined, undefined]],
    ['namespaces listed', makePod().namespace('x').antiAffinity(term('db', LABEL_HOSTNAME, { namespaces: ['default'] })), [REASON_ANTI_AFFINITY, undefined, undefined]],
    ['namespaceSelector {} = all', makePod().namespace('x').antiAffinity(term('db', LABEL_HOSTNAME, { namespaceSelector: {} })), [REASON_ANTI_AFFINITY, undefined, undefined]],
    [
      'namespaceSelector by metadata.name',
      makePod().namespace('x').antiAffinity(term('db', LABEL_HOSTNAME, { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'default' } } })),
      [REASON_ANTI_AFFINITY, undefined, undefined],
    ],
    ['affinity to nothing', makePod().podAffinity(term('cache', LABEL_HOSTNAME)), [`!${REASON_AFFINITY}`, `!${REASON_AFFINITY}`, `!${REASON_AFFINITY}`]],
    ['first pod of a self-affine group', makePod().labels({ app: 'cache' }).podAffinity(term('cache', LABEL_HOSTNAME)), [undefined, undefined, undefined]],
  ])('%s', (_n, pod, want) => {
    expect(runFilter(interPodAffinityFilter, pod.build(), agents())).toEqual(want);
  });

  it('honours the required anti-affinity of pods already placed (symmetry)', () => {
    const guard = makePod().labels({ app: 'guard' }).antiAffinity(term('web', LABEL_ZONE));
    const agents = [makeAgent('a1').zone('a').big().pod(guard).build(), makeAgent('a2').zone('a').big().build(), makeAgent('b1').zone('b').big().build()];
    expect(runFilter(interPodAffinityFilter, makePod().labels({ app: 'web' }).build(), agents)).toEqual([REASON_EXISTING_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY, undefined]);
    expect(runFilter(interPodAffinityFilter, makePod().labels({ app: 'api' }).build(), agents)).toEqual([undefined, undefined, undefined]);
  });

  it('one anti-affinity term declared by different pods counts all of them', () => {
    const g1 = makePod().labels({ app: 'guard', v: '1' }).antiAffinity(term('web', LABEL_HOSTNAME));
    const g2 = makePod().labels({ app: 'guard', v: '2' }).antiAffinity(term('web', LABEL_HOSTNAME));
    const agents = [makeAgent('h1').big().pod(g1).build(), makeAgent('h2').big().pod(g2).build(), makeAgent('h3').big().build()];
    expect(runFilter(interPodAffinityFilter, makePod().labels({ app: 'web' }).build(), agents)).toEqual([REASON_EXISTING_ANTI_AFFINITY, REASON_EXISTING_ANTI_AFFINITY, undefined]);
  });

  it('anti-affinity between pods of one plan: one per host, then unschedulable', () => {
    const agents = ['h1', 'h2', 'h3'].map((h) => makeAgent(h).big().build());
    const pods = Array.from({ length: 4 }, (_, i) => makePod(`w${i}`).labels({ app: 'web' }).antiAffinity(term('web', LABEL_HOSTNAME)).build());
    const p = plan(agents, pods, testConfig());
    expect(new Set(p.placements.map((x) => x.agentId)).size).toBe(3);
    // the placed siblings' own terms reject it first, as in kube-scheduler
    expect(p.unschedulable.map((u) => u.message)).toEqual([`0/3 nodes are available: 3 ${REASON_EXISTING_ANTI_AFFINITY}.`]);
  });

  it('symmetric anti-affinity of a pod placed earlier in the same plan', () => {
    const agents = ['h1', 'h2'].map((h) => makeAgent(h).big().build());
    const guard = makePod('guard').labels({ app: 'guard' }).antiAffinity(term('web', LABEL_HOSTNAME)).nodeName('h1').build();
    const web = makePod('web').labels({ app: 'web' }).scoring('binpack').build();
    const p = plan(agents, [guard, web], testConfig());
    expect(p.placements.map((x) => [x.podKey, x.agentId])).toEqual([
      ['default/guard', 'h1'],
      ['default/web', 'h2'],
    ]);
  });
});
