import { admitAgents, DEFAULT_PACING as C, newPacing, zoneRate, zoneState } from './pacing.js';

describe('zoneState (nodelifecycle ComputeZoneState)', () => {
  it.each([
    [10, 0, 'normal'],
    [10, 2, 'normal'],
    [4, 3, 'partial-disruption'], // 3 > 2 and 0.75 ≥ 0.55
    [3, 2, 'normal'], // not more than 2 lost
    [100, 55, 'partial-disruption'],
    [100, 54, 'normal'],
    [3, 3, 'full-disruption'],
    [1, 1, 'full-disruption'],
  ])('%d agents, %d lost → %s', (agents, lost, want) => {
    expect(zoneState(agents, lost, C)).toBe(want);
  });
});

describe('zoneRate', () => {
  it('normal 0.1/s; partial 0.01/s only above 50 agents, else 0; full 0.1/s unless every zone is full', () => {
    expect(zoneRate('normal', 10, false, C)).toBe(0.1);
    expect(zoneRate('partial-disruption', 51, false, C)).toBe(0.01);
    expect(zoneRate('partial-disruption', 50, false, C)).toBe(0);
    expect(zoneRate('full-disruption', 3, false, C)).toBe(0.1);
    expect(zoneRate('full-disruption', 3, true, C)).toBe(0);
  });
});

describe('admitAgents', () => {
  const zones = (m: Record<string, [number, number]>) => new Map(Object.entries(m).map(([z, [agents, lost]]) => [z, { agents, lost }]));

  it('admits one agent per 10 s in a normal zone (burst 1); an admitted agent stays admitted', () => {
    const z = zones({ a: [10, 2] });
    const want = [{ agentId: 'a1', zone: 'a' }, { agentId: 'a2', zone: 'a' }];
    const t0 = admitAgents(want, z, newPacing(), C, 0);
    expect([...t0.admitted]).toEqual(['a1']);
    expect(t0.nextTokenMs).toBe(10_000);
    const t1 = admitAgents(want, z, t0.state, C, 9_999);
    expect([...t1.admitted]).toEqual(['a1']);
    const t2 = admitAgents(want, z, t1.state, C, 10_000);
    expect([...t2.admitted].sort()).toEqual(['a1', 'a2']);
  });

  it('paces a large unhealthy zone at 0.01/s (one agent per 100 s) and stops a small one', () => {
    const big = zones({ a: [60, 40] });
    const want = [{ agentId: 'a1', zone: 'a' }, { agentId: 'a2', zone: 'a' }];
    const t0 = admitAgents(want, big, newPacing(), C, 0);
    expect(t0.nextTokenMs).toBe(100_000);
    expect(admitAgents(want, big, t0.state, C, 100_000).admitted.size).toBe(2);
    const small = zones({ a: [10, 6] });
    const s0 = admitAgents(want, small, newPacing(), C, 0);
    expect(s0.admitted.size).toBe(0); // rate 0: Kubernetes' never-limiter
    expect(s0.nextTokenMs).toBeUndefined();
    expect(admitAgents(want, small, s0.state, C, 10_000_000).admitted.size).toBe(0);
  });

  it('admits nothing new once every zone is fully disrupted', () => {
    const z = zones({ a: [2, 2], b: [2, 2] });
    const t0 = admitAgents([{ agentId: 'a1', zone: 'a' }], z, newPacing(), C, 0);
    expect(t0.admitted.size).toBe(0);
    expect(admitAgents([{ agentId: 'a1', zone: 'a' }], z, t0.state, C, 3_600_000).admitted.size).toBe(0);
  });
});
