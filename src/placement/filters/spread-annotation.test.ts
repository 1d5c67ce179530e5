import { plan } from '../plan.js';
import { runFilter } from '../testing/harness.js';
import { makeAgent, makePod, testConfig } from '../testing/builders.js';
import { spreadAnnotationFilter, spreadMissingReason, spreadReason } from './spread-annotation.js';

const sib = () => makePod().owner('rs');

describe('kube-mesos.io/spread', () => {
  it.each([
    ['zone: b and c are behind', '@zone', [1, 0, 0], [spreadReason('@zone'), undefined, undefined]],
    ['zone: balanced', '@zone', [1, 1, 1], [undefined, undefined, undefined]],
    ['zone: one left', '@zone', [2, 2, 1], [spreadReason('@zone'), spreadReason('@zone'), undefined]],
    ['hostname', '@hostname', [1, 0, 0], [spreadReason('@hostname'), undefined, undefined]],
  ])('%s', (_n, field, counts, want) => {
    const agents = ['a', 'b', 'c'].map((z, i) => {
      const ag = makeAgent(`${z}1`).zone(z).big();
      for (let k = 0; k < counts[i]; k++) ag.pod(sib());
      return ag.build();
    });
    expect(runFilter(spreadAnnotationFilter, sib().spread(field).build(), agents)).toEqual(want);
  });

  it('an agent without the attribute is unresolvable; unschedulable agents are not domains', () => {
    const agents = [
      makeAgent().attr('rack', 'r1').big().pod(sib()).build(),
      makeAgent().attr('rack', 'r2').unschedulable().big().build(),
      makeAgent().big().build(),
    ];
    expect(runFilter(spreadAnnotationFilter, sib().spread('rack').build(), agents)).toEqual([undefined, undefined, `!${spreadMissingReason('rack')}`]);
  });

  it('spreads one plan 4/4/4 and then fills evenly', () => {
    const agents = ['a', 'b', 'c'].map((z) => makeAgent(`${z}1`).zone(z).big().build());
    const pods = Array.from({ length: 12 }, (_, i) => makePod(`p${i}`).owner('rs').spread('@zone').scoring('binpack').build());
    const p = plan(agents, pods, testConfig());
    const per: Record<string, number> = {};
    for (const x of p.placements) per[x.agentId] = (per[x.agentId] ?? 0) + 1;
    expect(per).toEqual({ a1: 4, b1: 4, c1: 4 });
  });
});
