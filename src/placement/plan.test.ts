import { plan, feasibleToFind } from './plan.js';
import { AgentTable } from './state.js';
import { makeAgent, makePod, resetSeq, testConfig, LABEL_ZONE } from './testing/builders.js';
import type { AgentView } from './types.js';

function cluster(perZone: number, zones = ['a', 'b', 'c']): AgentView[] {
  const out: AgentView[] = [];
  for (const z of zones) for (let i = 0; i < perZone; i++) out.push(makeAgent(`${z}${i}`).zone(z).region('r1').big().build());
  return out;
}

const count = (xs: string[]): Record<string, number> => xs.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});

describe('plan', () => {
  beforeEach(resetSeq);

  it('spreads 30 replicas with a zone constraint 10/10/10 over 9 agents', () => {
    const agents = cluster(3);
    const pods = Array.from({ length: 30 }, (_, i) =>
      makePod(`web-${i}`).owner('rs1').labels({ app: 'web' }).requests({ cpus: 0.25, mem: 256 }).spreadConstraint({ topologyKey: LABEL_ZONE }).build(),
    );
    const p = plan(agents, pods, testConfig());
    expect(p.unschedulable).toEqual([]);
    expect(p.placements).toHaveLength(30);
    const zoneOf = new Map(agents.map((a) => [a.id, a.zone!]));
    expect(count(p.placements.map((x) => zoneOf.get(x.agentId)!))).toEqual({ a: 10, b: 10, c: 10 });
    for (const x of p.placements) expect(x.res).toEqual({ cpus: 0.25, mem: 256, disk: 0 });
  });

  it('charges the executor once per agent and reports kubelets to launch', () => {
    const agents = [makeAgent('x').offer('*', { cpus: 1, mem: 1000 }).build()];
    const pods = [0, 1, 2].map((i) => makePod(`p${i}`).requests({ cpus: 0.3, mem: 100 }).build());
    const p = plan(agents, pods, testConfig({ executor: { cpus: 0.1, mem: 32, disk: 0 } }));
    // 0.1 executor + 3 × 0.3 = 1.0 cpus
    expect(p.placements.map((x) => x.newKubelet)).toEqual([true, false, false]);
    expect(p.kubeletsToLaunch).toEqual(['x']);
    const p2 = plan(agents, [...pods, makePod('p3').requests({ cpus: 0.01 }).build()], testConfig());
    expect(p2.unschedulable.map((u) => u.message)).toEqual(['0/1 nodes are available: 1 Insufficient cpu.']);
  });

  it('never mutates its inputs and gives the same answer twice', () => {
    const agents = cluster(2).map((a, i) => (i % 2 ? a : { ...a, pods: [makePod(`old${i}`).owner('rs').labels({ app: 'w' }).antiAffinity({ topologyKey: LABEL_ZONE, labelSelector: { matchLabels: { app: 'x' } } }).placed()] }));
    const pods = [
      makePod().labels({ a: 'b' }).hostPort(31001).build(),
      ...Array.from({ length: 6 }, (_, i) => makePod(`w${i}`).owner('rs').labels({ app: 'w' }).spreadConstraint({ topologyKey: LABEL_ZONE }).build()),
      ...Array.from({ length: 4 }, (_, i) => makePod(`m${i}`).owner('m').constraint('@hostname', 'UNIQUE').spread('@zone').build()),
      makePod('x').labels({ app: 'x' }).build(),
    ];
    const before = JSON.stringify([agents, pods]);
    const first = plan(agents, pods, testConfig());
    expect(JSON.stringify([agents, pods])).toBe(before);
    expect(plan(agents, pods, testConfig())).toEqual(first);
    expect(first.placements).toHaveLength(11);
    // the old pods' anti-affinity to app=x covers every zone
    expect(first.unschedulable.map((u) => u.message)).toEqual(["0/6 nodes are available: 6 node(s) didn't satisfy existing pods anti-affinity rules."]);
  });

  it('counts reasons per agent like kube-scheduler, sorted', () => {
    const agents = [
      ...[1, 2, 3].map((i) => makeAgent(`s${i}`).zone('a').offer('*', { cpus: 0.1, mem: 100 }).build()),
      ...[4, 5, 6, 7, 8, 9].map((i) => makeAgent(`z${i}`).zone('b').big().build()),
    ];
    const p = plan(agents, [makePod('big').requests({ cpus: 1 }).zone('a').build()], testConfig());
    expect(p.unschedulable).toEqual([
      {
        podKey: 'default/big',
        message: "0/9 nodes are available: 3 Insufficient cpu, 6 node(s) didn't match Pod's node affinity.",
        reasons: { 'Insufficient cpu': 3, "node(s) didn't match Pod's node affinity": 6 },
        unresolvable: false,
      },
    ]);
  });

  it('is unresolvable when only unresolvable reasons remain', () => {
    const p = plan([makeAgent().zone('b').big().build()], [makePod().zone('a').build()], testConfig());
    expect(p.unschedulable[0].unresolvable).toBe(true);
  });

  it('binpack fills one agent, spread uses all', () => {
    const agents = cluster(1);
    const pods = (s: 'spread' | 'binpack') => Array.from({ length: 6 }, (_, i) => makePod(`p${i}`).scoring(s).requests({ cpus: 0.5, mem: 512 }).build());
    const bp = plan(agents, pods('binpack'), testConfig());
    expect(new Set(bp.placements.map((x) => x.agentId)).size).toBe(1);
    const sp = plan(agents, pods('spread'), testConfig());
    expect(new Set(sp.placements.map((x) => x.agentId)).size).toBe(3);
  });

  it('prefers an agent with a kubelet under binpack', () => {
    const agents = [makeAgent('empty').big().build(), makeAgent('kub').offer('*', { cpus: 4, mem: 8192 }).kubelet(1).build()];
    const p = plan(agents, [makePod().scoring('binpack').build()], testConfig());
    expect(p.placements[0]).toMatchObject({ agentId: 'kub', newKubelet: false });
    expect(p.kubeletsToLaunch).toEqual([]);
  });

  it('binpack on a large cluster stays on agents with kubelets while they have room', () => {
    const agents = Array.from({ length: 300 }, (_, i) => {
      const b = makeAgent(`a${i}`).offer('*', { cpus: 2, mem: 4096 });
      if (i === 7 || i === 250) b.kubelet(1);
      return b.build();
    });
    const pods = Array.from({ length: 10 }, (_, i) => makePod(`p${i}`).scoring('binpack').requests({ cpus: 0.5, mem: 100 }).build());
    const p = plan(agents, pods, testConfig({ executor: { cpus: 0, mem: 0, disk: 0 } }));
    const used = p.placements.map((x) => x.agentId);
    // 4 fit on each kubelet agent; the 9th pod needs a new kubelet, the 10th joins it
    expect(used.slice(0, 8).sort()).toEqual(['a250', 'a250', 'a250', 'a250', 'a7', 'a7', 'a7', 'a7']);
    expect(p.kubeletsToLaunch).toHaveLength(1);
    expect(used[8]).toBe(used[9]);
  });

  it('places in queue order: the first pod gets the last slot', () => {
    const agents = [makeAgent('x').offer('*', { cpus: 1.1, mem: 1000 }).kubelet().build()];
    const p = plan(agents, [makePod('first').requests({ cpus: 1 }).build(), makePod('second').requests({ cpus: 1 }).build()], testConfig());
    expect(p.placements.map((x) => x.podKey)).toEqual(['default/first']);
    expect(p.unschedulable.map((x) => x.podKey)).toEqual(['default/second']);
  });

  it('gives host ports from the offer and never twice', () => {
    const agents = [makeAgent('x').offer('*', { cpus: 4, mem: 4000 }, [[8080, 8081]]).kubelet().build()];
    const pods = [0, 1].map((i) => makePod(`p${i}`).hostPort(8080).build());
    const p = plan(agents, pods, testConfig());
    expect(p.placements).toEqual([expect.objectContaining({ podKey: 'default/p0', hostPorts: [8080] })]);
    expect(p.unschedulable[0].message).toBe("0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.");
  });

  it('reports every copy of a pod that fits nowhere, and still places smaller ones after it', () => {
    const agents = [makeAgent('x').offer('*', { cpus: 1, mem: 1000 }).kubelet().build()];
    const pods = [
      ...[0, 1, 2].map((i) => makePod(`big${i}`).requests({ cpus: 2 }).build()),
      makePod('small').requests({ cpus: 0.5 }).build(),
      makePod('big3').requests({ cpus: 2 }).build(),
    ];
    const p = plan(agents, pods, testConfig());
    expect(p.unschedulable.map((u) => [u.podKey, u.message])).toEqual(
      ['big0', 'big1', 'big2', 'big3'].map((n) => [`default/${n}`, '0/1 nodes are available: 1 Insufficient cpu.']),
    );
    expect(p.placements.map((x) => x.podKey)).toEqual(['default/small']);
  });

  it('takes resources from the first of the pod roles that holds them', () => {
    const agents = [makeAgent('x').offer('prod', { cpus: 1, mem: 1000 }).offer('*', { cpus: 4, mem: 4000 }).kubelet().build()];
    const pods = [0, 1, 2].map((i) => makePod(`p${i}`).roles('prod', '*').requests({ cpus: 0.6, mem: 100 }).build());
    const p = plan(agents, pods, testConfig());
    expect(p.placements.map((x) => x.role)).toEqual(['prod', '*', '*']);
  });

  it('handles no agents', () => {
    expect(plan([], [makePod('a').build()], testConfig()).unschedulable[0].message).toBe('0/0 nodes are available.');
  });

  it.each([
    [50, 0, 50],
    [100, 0, 100],
    [1000, 0, 420],
    [5000, 0, 500],
    [10000, 0, 500],
    [5000, 100, 5000],
    [5000, 30, 1500],
  ])('feasibleToFind(%i agents, %i%%) = %i', (n, pct, want) => {
    expect(feasibleToFind(n, pct)).toBe(want);
  });
});

describe('a failed pod diagnosed once for identical pods while nothing is placed', () => {
  beforeEach(() => resetSeq());
  const zoneSpread = (maxSkew: number) => ({ maxSkew, topologyKey: LABEL_ZONE, whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'x' } } });

  it('answers as a plan without any reuse: a placement in between, or another constraint, is looked at again', () => {
    // zone a holds one app=x pod already; zone b's agent is too small for the spread pods but not for a small one
    const agents: AgentView[] = [
      makeAgent('a1').zone('a').offer('*', { cpus: 4, mem: 4096, disk: 100 }).pod(makePod('old').labels({ app: 'x' }).zone('a')).build(),
      makeAgent('b1').zone('b').offer('*', { cpus: 0.45, mem: 4096, disk: 100 }).build(),
    ];
    const small = (name: string) => makePod(name).labels({ app: 'x' }).requests({ cpus: 0.1, mem: 64 }).nodeSelector({ [LABEL_ZONE]: 'b' }).build();
    const spread = (name: string, maxSkew = 1) => makePod(name).labels({ app: 'x' }).requests({ cpus: 0.5, mem: 64 }).spreadConstraint(zoneSpread(maxSkew)).build();
    const pods = [
      spread('p1'), // a would be 2:0 — fails
      spread('p2'), // the same, nothing placed since — fails (reused)
      small('q'), // 1:1
      spread('p4'), // a would be 2:1 — fits now, though identical to p1
      spread('p5'), // a would be 3:1 — fails
      spread('p6', 2), // another maxSkew, nothing placed since: a would be 3:1 — fits
      spread('p7'), // a would be 4:1 — fails
      small('q2'), // 3:2
      small('q3'), // 3:3
      makePod('big').labels({ app: 'x' }).requests({ cpus: 10, mem: 64 }).spreadConstraint(zoneSpread(1)).build(), // fails: the last failure now
      spread('p8'), // identical to p7, but placed since p7 failed: a would be 4:3 — fits
    ];
    const cfg = testConfig();
    const reference = plan(agents, pods, cfg, new AgentTable({ searchCache: false }));
    const r = plan(agents, pods, cfg, new AgentTable());
    expect(r).toEqual(reference);
    expect(r.placements.map((p) => [p.podKey, p.agentId])).toEqual([
      ['default/q', 'b1'],
      ['default/p4', 'a1'],
      ['default/p6', 'a1'],
      ['default/q2', 'b1'],
      ['default/q3', 'b1'],
      ['default/p8', 'a1'],
    ]);
    expect(r.unschedulable.map((u) => u.podKey)).toEqual(['default/p1', 'default/p2', 'default/p5', 'default/p7', 'default/big']);
    expect(r.unschedulable[0].message).toMatch(/didn't match pod topology spread constraints/);
  });

  it('a pod of another owner, under a Marathon constraint, is its own group and is looked at again', () => {
    const agents: AgentView[] = [makeAgent('a1').zone('a').offer('*', { cpus: 4, mem: 4096, disk: 100 }).pod(makePod('old').owner('rs-1').zone('a')).build()];
    const unique = (name: string, owner: string) => makePod(name).owner(owner).requests({ cpus: 0.1, mem: 64 }).constraint('hostname', 'UNIQUE').build();
    const pods = [unique('p1', 'rs-1'), unique('p2', 'rs-2')];
    const cfg = testConfig();
    const r = plan(agents, pods, cfg, new AgentTable());
    expect(r).toEqual(plan(agents, pods, cfg, new AgentTable({ searchCache: false })));
    expect(r.placements.map((p) => p.podKey)).toEqual(['default/p2']);
  });
});
