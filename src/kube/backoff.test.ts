import { Backoff, RequestLimiter } from './backoff.js';

describe('Backoff', () => {
  it.each([
    [{ initialMs: 100, maxMs: 1000, jitter: 0 }, [100, 200, 400, 800, 1000, 1000]],
    [{ initialMs: 100, maxMs: 1000, jitter: 0.5, random: () => 1 }, [150, 300, 600, 1000, 1000, 1000]],
  ])('%j grows as %j', (opts, expected) => {
    const b = new Backoff(opts);
    expect(expected.map(() => b.next())).toEqual(expected);
    b.reset();
    expect(b.next()).toBe(expected[0]);
  });

  it.each([[{ initialMs: -1 }], [{ initialMs: 10, maxMs: 5 }], [{ factor: 0.5 }], [{ jitter: 2 }]])('rejects %j', (opts) => {
    expect(() => new Backoff(opts)).toThrow(TypeError);
  });
});

describe('RequestLimiter', () => {
  it('bounds requests in flight', async () => {
    const lim = new RequestLimiter(1e6, 1e6, 2);
    const r1 = await lim.acquire();
    const r2 = await lim.acquire();
    let third = false;
    const p3 = lim.acquire().then((r) => {
      third = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(third).toBe(false);
    expect(lim.active).toBe(2);
    r1();
    r1(); // releasing twice frees one slot only
    const r3 = await p3;
    expect(lim.active).toBe(2);
    r2();
    r3();
    expect(lim.active).toBe(0);
  });

  it('lets watches pass the concurrency bound but not the rate limit', async () => {
    let now = 0;
    const lim = new RequestLimiter(10, 1, 1, () => now);
    const r1 = await lim.acquire();
    let watchGranted = false;
    const w = lim.acquire(false).then(() => (watchGranted = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(watchGranted).toBe(false); // no token left in a burst of 1
    now = 100; // 10 qps: one token per 100 ms
    await w;
    expect(watchGranted).toBe(true);
    r1();
  });

  it('paces at qps after the burst', async () => {
    const lim = new RequestLimiter(200, 5, 100);
    const t0 = Date.now();
    for (let i = 0; i < 25; i++) (await lim.acquire())();
    const elapsed = Date.now() - t0;
    // 5 free, then 20 at 200/s = 100 ms
    expect(elapsed).toBeGreaterThanOrEqual(80);
    expect(elapsed).toBeLessThan(1000);
  });
});
