import { LeaderElector, decideAcquire, type LeaderElectorOptions, type LeaseRecord } from './leader.js';
import { FakeLease } from './testing/fake-lease.js';
import { FakeClock } from '../time/fake-clock.js';
import { seededRandom, sleep } from '../time/backoff.js';

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

/**
 * Virtual time for the elector: its `now` and `sleep` run on a FakeClock that the test moves in small steps, letting
 * the elector's promises settle after each; durations below are virtual, so no assertion depends on the machine.
 */
class VirtualTime {
  readonly clock = new FakeClock(T0);
  readonly now = (): number => this.clock.now();
  readonly sleep = (ms: number, signal: AbortSignal): Promise<void> => sleep(ms, this.clock, signal);

  /** Moves the clock `ms` forward, 10 ms at a time. */
  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += STEP_MS) {
      this.clock.advance(STEP_MS);
      await settle();
    }
  }

  /** Moves the clock until `cond` holds; fails after `maxMs` of virtual time. */
  async until(cond: () => boolean, what: string, maxMs = 10_000): Promise<void> {
    await settle();
    for (let t = 0; !cond(); t += STEP_MS) {
      if (t >= maxMs) throw new Error(`no ${what} within ${maxMs} virtual ms`);
      this.clock.advance(STEP_MS);
      await settle();
    }
  }
}

const STEP_MS = 10;
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('LeaderElector', () => {
  const timing = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 50 };

  function candidate(vt: VirtualTime, lease: FakeLease, identity: string, extra: Partial<LeaderElectorOptions> = {}) {
    const state = { leading: false, started: 0, stopped: 0, startedAt: 0 };
    const ctrl = new AbortController();
    const el = new LeaderElector({
      lease,
      identity,
      ...timing,
      now: vt.now,
      sleep: vt.sleep,
      random: seededRandom(identity.charCodeAt(0)),
      onStartedLeading: () => {
        state.leading = true;
        state.started++;
        state.startedAt = vt.now();
      },
      onStoppedLeading: () => {
        state.leading = false;
        state.stopped++;
      },
      ...extra,
    });
    let finished = false;
    const done = el.run(ctrl.signal).finally(() => (finished = true));
    return { el, state, stop: () => ctrl.abort(), done, finished: () => finished };
  }

  it('two candidates -> one leader; a clean stop releases the lease and the other takes over at once', async () => {
    const vt = new VirtualTime();
    const lease = new FakeLease();
    const a = candidate(vt, lease, 'a');
    const b = candidate(vt, lease, 'b');
    await vt.until(() => a.state.leading || b.state.leading, 'a leader');
    const renewedAt = lease.lease!.record.renewTime;
    await vt.advance(300); // six retry periods: the leader renewed (time passed for both), and still exactly one leads
    expect(lease.lease!.record.renewTime).not.toBe(renewedAt);
    expect([a.state.leading, b.state.leading].filter(Boolean)).toHaveLength(1);
    const [leader, other] = a.state.leading ? [a, b] : [b, a];
    const t0 = vt.now();
    leader.stop();
    await vt.until(leader.finished, 'the leader to stop');
    expect(leader.state.stopped).toBe(1);
    expect(['', other === a ? 'a' : 'b']).toContain(lease.lease?.record.holderIdentity); // released (or already taken)
    await vt.until(() => other.state.leading, 'takeover');
    expect(vt.now() - t0).toBeLessThan(timing.leaseDurationMs); // released, so no waiting for expiry
    expect(lease.lease?.record.leaseTransitions).toBe(1);
    other.stop();
    await vt.until(other.finished, 'the other to stop');
  });

  it('after a crash (no release) the other leads once the lease expires, not before', async () => {
    const vt = new VirtualTime();
    const lease = new FakeLease();
    const a = candidate(vt, lease, 'a', { releaseOnCancel: false });
    await vt.until(() => a.state.leading, 'a leads');
    const b = candidate(vt, lease, 'b');
    await vt.advance(200); // b has tried several retry periods while a renews
    expect(b.state.leading).toBe(false);
    const t0 = vt.now();
    a.stop();
    await vt.until(a.finished, 'a to stop');
    expect(lease.lease?.record.holderIdentity).toBe('a'); // not released
    await vt.until(() => b.state.leading, 'b takes over', 5000);
    const took = b.state.startedAt - t0;
    expect(took).toBeGreaterThanOrEqual(timing.leaseDurationMs - 2 * timing.retryPeriodMs);
    expect(took).toBeLessThan(timing.leaseDurationMs + 3 * timing.retryPeriodMs);
    b.stop();
    await vt.until(b.finished, 'b to stop');
  });

  it('releases even when its last view of the Lease is stale (an update that landed after it stopped waiting)', async () => {
    const vt = new VirtualTime();
    const lease = new FakeLease();
    const a = candidate(vt, lease, 'a');
    await vt.until(() => a.state.leading, 'a leads');
    // same holder, newer resourceVersion: as if a renewal cut short by shutdown had reached the server anyway
    await lease.update({ ...lease.lease!.record }, lease.lease!.resourceVersion);
    a.stop();
    await vt.until(a.finished, 'a to stop');
    expect(lease.lease?.record.holderIdentity).toBe('');
  });

  it('gives up leadership when renewals fail for the renew deadline, before the lease could expire', async () => {
    const vt = new VirtualTime();
    const lease = new FakeLease();
    const a = candidate(vt, lease, 'a');
    await vt.until(() => a.state.leading, 'a leads');
    lease.down = true;
    const t0 = vt.now();
    await vt.until(a.finished, 'run() to return after losing the lease', 5000);
    expect(a.state.stopped).toBe(1);
    expect(vt.now() - t0).toBeGreaterThanOrEqual(timing.renewDeadlineMs);
    expect(vt.now() - t0).toBeLessThan(timing.leaseDurationMs);
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
