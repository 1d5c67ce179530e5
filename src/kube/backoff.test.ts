import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../time/fake-clock.js';
import { RequestLimiter } from './backoff.js';

/** Lets granted acquisitions' promise callbacks run. */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('RequestLimiter', () => {
  it('bounds requests in flight: a third waits until one of two is released; releasing twice frees one slot only', async () => {
    const lim = new RequestLimiter(1e6, 1e6, 2, new FakeClock());
    const r1 = await lim.acquire();
    const r2 = await lim.acquire();
    let third = false;
    const p3 = lim.acquire().then((r) => {
      third = true;
      return r;
    });
    await settle();
    expect(lim.pending).toBe(1); // queued in the limiter, not merely not yet run
    expect(third).toBe(false);
    expect(lim.active).toBe(2);
    r1();
    r1();
    const r3 = await p3;
    expect(lim.active).toBe(2);
    expect(lim.pending).toBe(0);
    r2();
    r3();
    expect(lim.active).toBe(0);
  });

  it('lets watches pass the concurrency bound but not the rate limit: granted when the clock reaches the next token', async () => {
    const clock = new FakeClock();
    const lim = new RequestLimiter(10, 1, 1, clock); // 10 qps: one token per 100 ms, burst 1
    const r1 = await lim.acquire();
    let watchGranted = false;
    const w = lim.acquire(false).then(() => (watchGranted = true));
    await settle();
    expect(lim.pending).toBe(1);
    expect(clock.pending).toBe(1); // waiting for a token, not for the in-flight slot
    clock.advance(99);
    await settle();
    expect(watchGranted).toBe(false);
    clock.advance(1);
    await w;
    expect(watchGranted).toBe(true);
    r1();
  });

  it('paces at qps after the burst: 5 at once, then one per 1/qps on the clock', async () => {
    const clock = new FakeClock();
    const lim = new RequestLimiter(200, 5, 100, clock);
    let granted = 0;
    const all = Array.from({ length: 25 }, () => lim.acquire().then((release) => (granted++, release())));
    await settle();
    expect(granted).toBe(5);
    for (let k = 1; k <= 20; k++) {
      clock.advance(5); // 200 qps: a token every 5 ms
      await settle();
      expect(granted).toBe(5 + k);
    }
    await Promise.all(all);
  });
});

describe('RequestLimiter.acquire with a signal', () => {
  it('an abort while waiting leaves the queue: no slot taken, the next waiter gets the freed one', async () => {
    const l = new RequestLimiter(1000, 1000, 1);
    const first = await l.acquire(true);
    const ac = new AbortController();
    const cancelled = l.acquire(true, ac.signal);
    const third = l.acquire(true, undefined);
    expect(l.pending).toBe(2);
    ac.abort();
    await expect(cancelled).resolves.toBeUndefined();
    expect(l.pending).toBe(1);
    first();
    const release = await third;
    expect(typeof release).toBe('function');
    expect(l.active).toBe(1);
  });

  it('an already aborted signal is not queued', async () => {
    const l = new RequestLimiter(1000, 1000, 1);
    const ac = new AbortController();
    ac.abort();
    await expect(l.acquire(true, ac.signal)).resolves.toBeUndefined();
    expect(l.pending).toBe(0);
    expect(l.active).toBe(0);
  });
});
