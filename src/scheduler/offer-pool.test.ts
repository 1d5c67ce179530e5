import { DEFAULT_OFFER_POLICY, OfferPool, offerStreamAction, refuseSecondsFor, spendRevive, type ReviveBudget } from './offer-pool.js';

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

  it("changes an agent's version whenever its held offers change, and only then", () => {
    const pool = new OfferPool();
    const v = (a: string) => pool.version(a);
    pool.add(offer('o1', 'a1'), 0);
    pool.add(offer('o2', 'a2'), 0);
    const [v1, v2] = [v('a1'), v('a2')];
    pool.add(offer('o1', 'a1'), 0); // duplicate: ignored
    pool.remove('nope');
    expect([v('a1'), v('a2')]).toEqual([v1, v2]);
    pool.add(offer('o3', 'a1'), 0);
    expect(v('a1')).not.toBe(v1);
    expect(v('a2')).toBe(v2);
    const v1b = v('a1');
    pool.remove('o3');
    expect(v('a1')).not.toBe(v1b);
    const [v1c, v2c] = [v('a1'), v('a2')];
    pool.takeAll();
    expect(v('a1')).not.toBe(v1c);
    expect(v('a2')).not.toBe(v2c);
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

  // REVIVE budgets: a full bucket, one token left, spent at 4500 and at 4800 (two back to back).
  const full = undefined;
  const oneLeft: ReviveBudget = spendRevive(undefined, 4500, 1000);
  const empty: ReviveBudget = spendRevive(oneLeft, 4800, 1000);
  it.each([
    // pending, wantsOffers, suppressed, revive budget, now → action
    [0, false, false, full, 0, { kind: 'suppress' }],
    [0, false, true, full, 0, { kind: 'none' }],
    [0, true, true, full, 0, { kind: 'revive' }],
    [3, false, false, full, 0, { kind: 'none' }],
    [3, false, true, full, 5000, { kind: 'revive' }],
    [3, false, true, oneLeft, 4600, { kind: 'revive' }], // the burst: a second REVIVE right after the first
    [3, false, true, empty, 5000, { kind: 'revive-later', atMs: 5500 }], // 0.3 token left at 4800: one whole at 5500
    [3, false, true, empty, 5600, { kind: 'revive' }],
  ] as const)('pending=%d wants=%p suppressed=%p budget=%p now=%d → %p', (pendingPods, wantsOffers, suppressed, reviveBudget, nowMs, action) => {
    expect(offerStreamAction({ pendingPods, wantsOffers, suppressed, reviveBudget, nowMs }, DEFAULT_OFFER_POLICY)).toEqual(action);
  });

  it('sustains at most one REVIVE per interval, however often it is asked', () => {
    let budget: ReviveBudget | undefined;
    const sent: number[] = [];
    for (let now = 0; now <= 10_000; now += 50) {
      const a = offerStreamAction({ pendingPods: 1, wantsOffers: false, suppressed: true, reviveBudget: budget, nowMs: now }, DEFAULT_OFFER_POLICY);
      if (a.kind === 'revive') {
        sent.push(now);
        budget = spendRevive(budget, now, DEFAULT_OFFER_POLICY.reviveMinIntervalMs);
      }
    }
    expect(sent.slice(0, 2)).toEqual([0, 50]); // the burst of two
    expect(sent.length).toBe(2 + 10); // then one per second over 10 s
    for (let i = 3; i < sent.length; i++) expect(sent[i] - sent[i - 1]).toBe(1000);
  });
});
