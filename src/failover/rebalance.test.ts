import { planRebalance, type RebalancePod } from './rebalance.js';

const pods = (group: string, perZone: Record<string, number>, maxSkew = 1): RebalancePod[] =>
  Object.entries(perZone).flatMap(([zone, n]) => Array.from({ length: n }, (_, i) => ({ key: `${group}-${zone}-${i}`, group, zone, maxSkew })));

describe('planRebalance', () => {
  it.each([
    // per-zone counts after zone b recovered → pods moved this round (perGroup 1)
    [{ a: 15, c: 15 }, ['a-0']],
    [{ a: 10, b: 10, c: 10 }, []],
    [{ a: 11, b: 9, c: 10 }, ['a-0']],
    [{ a: 11, b: 10, c: 10 }, []],
  ])('%p → %p', (perZone, moved) => {
    expect(planRebalance(pods('web', perZone), ['a', 'b', 'c']).map((k) => k.replace('web-', ''))).toEqual(moved);
  });

  it('honours a larger maxSkew, per-group and total limits', () => {
    expect(planRebalance(pods('web', { a: 12, c: 12 }, 12), ['a', 'b', 'c'])).toEqual([]);
    expect(planRebalance(pods('web', { a: 15, c: 15 }), ['a', 'b', 'c'], { perGroup: 3, total: 10 })).toEqual(['web-a-0', 'web-c-0', 'web-a-1']);
    const two = [...pods('g1', { a: 6 }), ...pods('g2', { a: 6 })];
    expect(planRebalance(two, ['a', 'b'], { perGroup: 5, total: 3 })).toHaveLength(3);
  });

  it('ignores zones that are not eligible (still failed)', () => {
    expect(planRebalance(pods('web', { a: 15, c: 15 }), ['a', 'c'])).toEqual([]);
  });
});
