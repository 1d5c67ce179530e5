import { DEFAULT_OFFER_POLICY, OfferPool, offerStreamAction, refuseSecondsFor } from './offer-pool.js';

const offer = (id: string, agent: string) => ({ id: { value: id }, agent_id: { value: agent } });

describe('OfferPool', () => {
  it('keeps offers per agent and removes rescinded ones', () => {
    const pool = new OfferPool();
    pool.add(offer('o1', 'a1'), 0);
    pool.add(offer('o2', 'a1'), 0);
    pool.add(offer('o3', 'a2'), 0);
    expect(pool.size).toBe(3);
    expect(pool.forAgent('a1').map((o) => o.id.value)).toEqual(['o1', 'o2']);
    expect(pool.remove('o1')?.id.value).toBe('o1');
    expect(pool.remove('o1')).toBeUndefined();
    expect(pool.forAgent('a1').map((o) => o.id.value)).toEqual(['o2']);
    expect([...pool.agents()]).toEqual(['a1', 'a2']);
  });

  it('ignores a duplicate offer id', () => {
    const pool = new OfferPool();
    pool.add(offer('o1', 'a1'), 0);
    pool.add(offer('o1', 'a1'), 5);
    expect(pool.size).toBe(1);
  });

  it('takes all offers of an agent at once and forgets the agent', () => {
    const pool = new OfferPool();
    pool.add(offer('o1', 'a1'), 0);
    pool.add(offer('o2', 'a1'), 0);
    expect(pool.takeAgent('a1').map((o) => o.id.value)).toEqual(['o1', 'o2']);
    expect(pool.size).toBe(0);
    expect(pool.agentCount).toBe(0);
  });

  it('expires offers held past the hold time', () => {
    const pool = new OfferPool();
    pool.add(offer('old', 'a1'), 0);
    pool.add(offer('new', 'a2'), 900);
    expect(pool.nextExpiry(1000)).toBe(1000);
    expect(pool.takeExpired(999, 1000)).toEqual([]);
    expect(pool.takeExpired(1000, 1000).map((o) => o.id.value)).toEqual(['old']);
    expect(pool.nextExpiry(1000)).toBe(1900);
    expect(pool.takeAll().map((o) => o.id.value)).toEqual(['new']);
    expect(pool.nextExpiry(1000)).toBeUndefined();
  });
});

describe('offer policy', () => {
  it.each([
    [0, 300],
    [1, 2],
    [500, 2],
  ])('with %d pods pending, declines refuse %d s', (pending, refuse) => {
    expect(refuseSecondsFor(pending, DEFAULT_OFFER_POLICY)).toBe(refuse);
  });

  it.each([
    // pending, wantsOffers, suppressed, lastRevive, now → action
    [0, false, false, undefined, 0, { kind: 'suppress' }],
    [0, false, true, undefined, 0, { kind: 'none' }],
    [0, true, true, undefined, 0, { kind: 'revive' }],
    [3, false, false, undefined, 0, { kind: 'none' }],
    [3, false, true, undefined, 5000, { kind: 'revive' }],
    [3, false, true, 4500, 5000, { kind: 'revive-later', atMs: 5500 }],
    [3, false, true, 4000, 5000, { kind: 'revive' }],
  ] as const)('pending=%d wants=%p suppressed=%p lastRevive=%p now=%d → %p', (pendingPods, wantsOffers, suppressed, lastReviveMs, nowMs, action) => {
    expect(offerStreamAction({ pendingPods, wantsOffers, suppressed, lastReviveMs, nowMs }, DEFAULT_OFFER_POLICY)).toEqual(action);
  });
});
