import { describe, expect, it } from '@jest/globals';
import { Backoff, seededRandom, sleep, type Clock } from './backoff.js';

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
  function fakeClock(): Clock & { advance(ms: number): void } {
    let now = 0;
    let timers: Array<{ at: number; fn: () => void; id: number }> = [];
    let seq = 0;
    return {
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn, id: ++seq };
        timers.push(t);
        return t.id;
      },
      clearTimeout: (h) => {
        timers = timers.filter((t) => t.id !== h);
      },
      advance(ms: number) {
        now += ms;
        const due = timers.filter((t) => t.at <= now);
        timers = timers.filter((t) => t.at > now);
        for (const t of due) t.fn();
      },
    };
  }

  it('resolves true when the injected clock passes the delay', async () => {
    const clock = fakeClock();
    let done: boolean | undefined;
    const p = sleep(1000, clock).then((v) => (done = v));
    clock.advance(999);
    await Promise.resolve();
    expect(done).toBeUndefined();
    clock.advance(1);
    await p;
    expect(done).toBe(true);
  });

  it('resolves false at once when aborted', async () => {
    const clock = fakeClock();
    const ac = new AbortController();
    const p = sleep(60_000, clock, ac.signal);
    ac.abort();
    await expect(p).resolves.toBe(false);
    await expect(sleep(10, clock, ac.signal)).resolves.toBe(false);
  });
});
