import { describe, expect, it } from '@jest/globals';
import { Backoff, seededRandom, sleep } from './backoff.js';
import { FakeClock } from './fake-clock.js';

describe('Backoff', () => {
  it.each([
    // initial, max, factor: every delay lies in [ceiling/2, ceiling] with ceiling = min(max, initial*factor^n)
    [100, 10_000, 2],
    [500, 30_000, 2],
    [10, 50, 3],
    [0, 0, 2],
  ])('initial %d, max %d, factor %d: delays grow within [c/2, c] and stay capped', (initialMs, maxMs, factor) => {
    const b = new Backoff({ initialMs, maxMs, factor, random: seededRandom(42) });
    for (let n = 0; n < 20; n++) {
      const ceiling = Math.min(maxMs, initialMs * factor ** n);
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
      expect(d).toBeLessThanOrEqual(ceiling);
      expect(d).toBeLessThanOrEqual(maxMs);
    }
    expect(b.attempts).toBe(20);
  });

  it('jitter spreads delays (not all equal) and the seed makes them reproducible', () => {
    const seq = (seed: number): number[] => {
      const b = new Backoff({ initialMs: 1000, maxMs: 1000, random: seededRandom(seed) });
      return Array.from({ length: 10 }, () => b.next());
    };
    expect(new Set(seq(1)).size).toBeGreaterThan(5);
    expect(seq(7)).toEqual(seq(7));
    expect(seq(7)).not.toEqual(seq(8));
  });

  it('reset starts over', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 100_000, random: () => 0.999 });
    for (let i = 0; i < 8; i++) b.next();
    expect(b.next()).toBeGreaterThan(10_000);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBeLessThanOrEqual(100);
  });

  it.each([
    [{ initialMs: -1 }],
    [{ initialMs: 100, maxMs: 50 }],
    [{ factor: 0.5 }],
    [{ initialMs: Number.NaN }],
  ])('rejects bad options %j', (opts) => {
    expect(() => new Backoff(opts)).toThrow(RangeError);
  });
});

describe('sleep', () => {
  it('resolves when the injected clock passes the delay, not before', async () => {
    const clock = new FakeClock();
    let done = false;
    const p = sleep(1000, clock).then(() => (done = true));
    clock.advance(999);
    await Promise.resolve();
    expect(done).toBe(false);
    expect(clock.pending).toBe(1);
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves at once when aborted, and its timer is cleared', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const p = sleep(60_000, clock, ac.signal);
    ac.abort();
    await p;
    expect(clock.pending).toBe(0);
    await sleep(10, clock, ac.signal); // already aborted: resolves without a timer
    expect(clock.pending).toBe(0);
  });

  it('takes a signal alone (real timers) and resolves at once when it is aborted', async () => {
    const ac = new AbortController();
    const p = sleep(3_600_000, ac.signal);
    ac.abort();
    await expect(p).resolves.toBeUndefined();
  });
});
