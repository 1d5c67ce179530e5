import { plan } from '../plan.js';
import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, testConfig } from '../testing/builders.js';
import type { MarathonConstraint } from '../types.js';
import { constraintReason, marathonConstraintsFilter } from './marathon-constraints.js';

const sib = () => makePod().owner('app1');

// r1: h1 (2 siblings), h2 (1 sibling); r2: h3 (0); h4 has no rack attribute
function agents() {
  return [
    makeAgent('h1').zone('a').attr('rack', 'r1').attr('gpus', '4').big().pod(sib()).pod(sib()).build(),
    makeAgent('h2').zone('a').attr('rack', 'r1').attr('gpus', '2').big().pod(sib()).pod(makePod().owner('other')).build(),
    makeAgent('h3').zone('b').attr('rack', 'r2').big().build(),
    makeAgent('h4').zone('b').big().build(),
  ];
}

const R = (c: MarathonConstraint, hard = false) => `${hard ? '!' : ''}${constraintReason(c)}`;

describe('Marathon constraints', () => {
  it.each<[string, MarathonConstraint, (string | undefined)[]]>([
    ['UNIQUE hostname', { field: '@hostname', operator: 'UNIQUE' }, ['h1', 'h2', undefined, undefined]],
    ['UNIQUE rack', { field: 'rack', operator: 'UNIQUE' }, ['d', 'd', undefined, 'h']],
    ['CLUSTER rack r2', { field: 'rack', operator: 'CLUSTER', value: 'r2' }, ['h', 'h', 'd', 'h']],
    ['CLUSTER rack (siblings in r1)', { field: 'rack', operator: 'CLUSTER' }, [undefined, undefined, 'd', 'h']],
    ['CLUSTER hostname (siblings on two hosts)', { field: '@hostname', operator: 'CLUSTER' }, ['d', 'd', 'd', 'd']],
    // Marathon: without a group count, the only group so far is also the smallest
    ['GROUP_BY rack without count', { field: 'rack', operator: 'GROUP_BY' }, [undefined, undefined, undefined, 'h']],
    ['GROUP_BY rack 2: r2 is new', { field: 'rack', operator: 'GROUP_BY', value: '2' }, ['d', 'd', undefined, 'h']],
    ['GROUP_BY zone 2: b is new', { field: '@zone', operator: 'GROUP_BY', value: '2' }, ['d', 'd', undefined, undefined]],
    ['GROUP_BY hostname 3: too few groups', { field: '@hostname', operator: 'GROUP_BY', value: '3' }, ['d', 'd', undefined, undefined]],
    ['GROUP_BY hostname 2: h2 is the smallest', { field: '@hostname', operator: 'GROUP_BY', value: '2' }, ['d', undefined, undefined, undefined]],
    ['LIKE', { field: 'rack', operator: 'LIKE', value: 'r[2-3]' }, ['h', 'h', undefined, 'h']],
    ['LIKE matches the whole value', { field: 'rack', operator: 'LIKE', value: 'r' }, ['h', 'h', 'h', 'h']],
    ['UNLIKE accepts missing attributes', { field: 'rack', operator: 'UNLIKE', value: 'r1' }, ['h', 'h', undefined, undefined]],
    ['MAX_PER rack 3', { field: 'rack', operator: 'MAX_PER', value: '3' }, ['d', 'd', undefined, 'h']],
    ['MAX_PER hostname 2', { field: '@hostname', operator: 'MAX_PER', value: '2' }, ['d', undefined, undefined, undefined]],
    ['IS text', { field: 'rack', operator: 'IS', value: 'r1' }, [undefined, undefined, 'h', 'h']],
    ['IS scalar', { field: 'gpus', operator: 'IS', value: '4.0' }, [undefined, 'h', 'h', 'h']],
    ['IS zone', { field: '@zone', operator: 'IS', value: 'b' }, ['h', 'h', undefined, undefined]],
  ])('%s', (_n, c, want) => {
    const pod = sib().constraint(c.field, c.operator, c.value).build();
    const expected = want.map((w) => (w === 'd' ? R(c) : w === 'h' ? R(c, true) : w === 'h1' || w === 'h2' ? R(c) : undefined));
    expect(runFilter(marathonConstraintsFilter, pod, agents())).toEqual(expected);
  });

  it('a pod without owner is its own group', () => {
    const pod = makePod().constraint('@hostname', 'UNIQUE').build();
    expect(runFilter(marathonConstraintsFilter, pod, agents())).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('GROUP_BY spreads one plan evenly over 3 zones', () => {
    const ag = ['a', 'b', 'c'].flatMap((z) => [1, 2].map((i) => makeAgent(`${z}${i}`).zone(z).big().build()));
    const pods = Array.from({ length: 9 }, (_, i) => makePod(`p${i}`).owner('o').constraint('@zone', 'GROUP_BY', '3').scoring('binpack').build());
    const p = plan(ag, pods, testConfig());
    const z = new Map<string, number>();
    for (const x of p.placements) z.set(x.agentId[0], (z.get(x.agentId[0]) ?? 0) + 1);
    expect(Object.fromEntries(z)).toEqual({ a: 3, b: 3, c: 3 });
  });

  // Issue 16 item 1: on a backtracking engine this pattern takes seconds on a 16-character hostname (exponential in its
  // length) on the event loop. The bound is a hang guard, far above what a linear-time match needs.
  it('LIKE "(.*.*)*y" against long hostnames does not hang (linear-time matching)', () => {
    // (17 characters: a backtracking engine needs seconds, not forever, so the test fails on one instead of hanging)
    const hosts = ['a'.repeat(17), `${'x'.repeat(200)}y`];
    const ag = hosts.map((h) => makeAgent(h).big().build());
    const c: MarathonConstraint = { field: '@hostname', operator: 'LIKE', value: '(.*.*)*y' };
    const t0 = performance.now();
    const got = runFilter(marathonConstraintsFilter, makePod().constraint(c.field, c.operator, c.value).build(), ag);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(got).toEqual([R(c, true), undefined]);
  });

  it('LIKE keeps Marathon\'s full-match semantics (alternation, anchors inside the pattern)', () => {
    const ag = ['r1', 'r12', 'rack-1'].map((h) => makeAgent(h).attr('rack', h).big().build());
    const c: MarathonConstraint = { field: 'rack', operator: 'LIKE', value: 'r1|rack-\\d' };
    expect(runFilter(marathonConstraintsFilter, makePod().constraint(c.field, c.operator, c.value).build(), ag)).toEqual([undefined, R(c, true), undefined]);
  });

  it('a view holding a pattern the engine cannot run refuses every agent for LIKE and none for UNLIKE, without throwing', () => {
    const like: MarathonConstraint = { field: 'rack', operator: 'LIKE', value: '(a)\\1' };
    const unlike: MarathonConstraint = { field: 'rack', operator: 'UNLIKE', value: '(?=r)r1' };
    expect(runFilter(marathonConstraintsFilter, sib().constraint(like.field, like.operator, like.value).build(), agents())).toEqual([R(like, true), R(like, true), R(like, true), R(like, true)]);
    expect(runFilter(marathonConstraintsFilter, sib().constraint(unlike.field, unlike.operator, unlike.value).build(), agents())).toEqual([undefined, undefined, undefined, undefined]);
  });
});
