import { LeaderElector, decideAcquire, type LeaderElectorOptions, type LeaseRecord } from './leader.js';
import { FakeLease } from './testing/fake-lease.js';
import { until } from '../../test/support/until.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const rec = (holder: string, transitions = 0): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: '2026-01-01T00:00:00.000000Z',
  renewTime: '2026-01-01T00:00:00.000000Z',
  leaseTransitions: transitions,
});

describe('decideAcquire', () => {
  const key = (r: LeaseRecord) => JSON.stringify([r.holderIdentity, r.leaseDurationSeconds, r.acquireTime, r.renewTime, r.leaseTransitions]);
  it.each([
    ['no lease -> create', null, undefined, 0, 'create', 0],
    ['held by other, just observed -> wait', rec('b'), undefined, 0, 'wait', undefined],
    ['held by other, observed 14 s ago unchanged -> wait', rec('b'), { key: key(rec('b')), at: T0 - 14_000 }, 0, 'wait', undefined],
    ['held by other, observed 15 s ago unchanged -> take over', rec('b', 3), { key: key(rec('b', 3)), at: T0 - 15_000 }, 0, 'update', 4],
    ['held by other, changed since observed -> wait (it renewed)', rec('b'), { key: 'older', at: T0 - 60_000 }, 0, 'wait', undefined],
    ['released (empty holder) -> take over at once', rec('', 2), undefined, 0, 'update', 3],
    ['held by us -> renew, transitions kept', rec('a', 5), undefined, 0, 'update', 5],
  ])('%s', (_name, current, observed, dt, action, transitions) => {
    const { decision } = decideAcquire(current, observed, T0 + dt, 'a', 15_000);
    expect(decision.action).toBe(action);
    if (decision.action !== 'wait') {
      expect(decision.record.holderIdentity).toBe('a');
      expect(decision.record.leaseTransitions).toBe(transitions);
      expect(decision.record.renewTime).toBe('2026-01-01T00:00:00.000000Z');
    }
  });

  it('keeps acquireTime when renewing and resets it when taking over', () => {
    const mine = { ...rec('a'), acquireTime: '2025-12-31T00:00:00.000000Z' };
    const renew = decideAcquire(mine, undefined, T0, 'a', 15_000).decision;
    expect(renew.action === 'update' && renew.record.acquireTime).toBe('2025-12-31T00:00:00.000000Z');
    const take = decideAcquire({ ...mine, holderIdentity: '' }, undefined, T0, 'a', 15_000).decision;
    expect(take.action === 'update' && take.record.acquireTime).toBe('2026-01-01T00:00:00.000000Z');
  });
});

describe('LeaderElector', () => {
  const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 50 };

  function candidate(lease: FakeLease, identity: string, extra: Partial<LeaderElectorOptions> = {}) {
    const state = { leading: false, started: 0, stopped: 0, startedAt: 0 };
    const ctrl = new AbortController();
    const el = new LeaderElector({
      lease,
      identity,
      ...timing,
      onStartedLeading: () => {
        state.leading = true;
        state.started++;
        state.startedAt = Date.now();
      },
      onStoppedLeading: () => {
        state.leading = false;
        state.stopped++;
      },
      ...extra,
    });
    const done = el.run(ctrl.signal);
    return { el, state, stop: () => ctrl.abort(), done };
  }

  it('two candidates -> one leader; a clean stop releases the lease and the other takes over at once', async () => {
    const lease = new FakeLease();
    const a = candidate(lease, 'a');
    const b = candidate(lease, 'b');
    await until(() => a.state.leading || b.state.leading, 'a leader');
    await new Promise((r) => setTimeout(r, 300)); // several retry periods: still exactly one
    expect([a.state.leading, b.state.leading].filter(Boolean)).toHaveLength(1);
    const [leader, other] = a.state.leading ? [a, b] : [b, a];
    const t0 = Date.now();
    leader.stop();
    await leader.done;
    expect(leader.state.stopped).toBe(1);
    expect(['', other === a ? 'a' : 'b']).toContain(lease.lease?.record.holderIdentity); // released (or already taken)
    await until(() => other.state.leading, 'takeover');
    expect(Date.now() - t0).toBeLessThan(timing.leaseDurationMs); // released, so no waiting for expiry
    expect(lease.lease?.record.leaseTransitions).toBe(1);
    other.stop();
    await other.done;
  });

  it('after a crash (no release) the other leads once the lease expires, not before', async () => {
    const lease = new FakeLease();
    const a = candidate(lease, 'a', { releaseOnCancel: false });
    await until(() => a.state.leading, 'a leads');
    const b = candidate(lease, 'b');
    await new Promise((r) => setTimeout(r, 200));
    expect(b.state.leading).toBe(false);
    const t0 = Date.now();
    a.stop();
    await a.done;
    expect(lease.lease?.record.holderIdentity).toBe('a'); // not released
    await until(() => b.state.leading, 'b takes over', 5000);
    const took = b.state.startedAt - t0;
    expect(took).toBeGreaterThanOrEqual(timing.leaseDurationMs - 2 * timing.retryPeriodMs);
    expect(took).toBeLessThan(timing.leaseDurationMs + 3 * timing.retryPeriodMs);
    b.stop();
    await b.done;
  });

  it('releases even when its last view of the Lease is stale (an update that landed after it stopped waiting)', async () => {
    const lease = new FakeLease();
    const a = candidate(lease, 'a');
    await until(() => a.state.leading, 'a leads');
    // same holder, newer resourceVersion: as if a renewal cut short by shutdown had reached the server anyway
    await lease.update({ ...lease.lease!.record }, lease.lease!.resourceVersion);
    a.stop();
    await a.done;
    expect(lease.lease?.record.holderIdentity).toBe('');
  });

  it('gives up leadership when renewals fail for the renew deadline', async () => {
    const lease = new FakeLease();
    const a = candidate(lease, 'a');
    await until(() => a.state.leading, 'a leads');
    lease.down = true;
    const t0 = Date.now();
    await a.done; // run() returns after losing the lease
    expect(a.state.stopped).toBe(1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(timing.renewDeadlineMs);
    expect(Date.now() - t0).toBeLessThan(timing.leaseDurationMs); // before anyone else could take it
  });

  it.each([
    [{ identity: '' }],
    [{ retryPeriodMs: 0 }],
    [{ renewDeadlineMs: 50, retryPeriodMs: 50 }],
    [{ leaseDurationMs: 600, renewDeadlineMs: 600 }],
  ])('rejects bad options %j', (bad) => {
    expect(() => new LeaderElector({ lease: new FakeLease(), identity: 'a', ...timing, onStartedLeading: () => {}, onStoppedLeading: () => {}, ...bad })).toThrow(TypeError);
  });
});
