import { SchedulingQueue, type QueuedPod } from './queue.js';

const pod = (key: string, priority = 0, createdAtMs = 0, uid = `${key}-uid`): QueuedPod => ({ key, uid, priority, createdAtMs });

describe('SchedulingQueue', () => {
  it('orders by priority, then age, then arrival', () => {
    const q = new SchedulingQueue();
    q.upsert(pod('ns/old-low', 0, 100));
    q.upsert(pod('ns/new-high', 1000, 500));
    q.upsert(pod('ns/older-low', 0, 50));
    q.upsert(pod('ns/same-age-later', 0, 50));
    expect(q.ready(0).map((p) => p.key)).toEqual(['ns/new-high', 'ns/older-low', 'ns/same-age-later', 'ns/old-low']);
  });

  it('limits a batch', () => {
    const q = new SchedulingQueue();
    for (let i = 0; i < 10; i++) q.upsert(pod(`ns/p${i}`, 0, i));
    expect(q.ready(0, 3).map((p) => p.key)).toEqual(['ns/p0', 'ns/p1', 'ns/p2']);
  });

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [9, 10_000],
  ])('backs off exponentially: attempt %d waits %d ms', (attempts, wait) => {
    const q = new SchedulingQueue({ initialBackoffMs: 1000, maxBackoffMs: 10_000 });
    q.upsert(pod('ns/a'));
    let until = 0;
    for (let i = 0; i < attempts; i++) until = q.backoff('ns/a', 0)!;
    expect(until).toBe(wait);
    expect(q.ready(wait - 1)).toEqual([]);
    expect(q.ready(wait).map((p) => p.key)).toEqual(['ns/a']);
    expect(q.nextBackoffExpiry(0)).toBe(wait);
  });

  it('ends backoff early when capacity arrives', () => {
    const q = new SchedulingQueue();
    q.upsert(pod('ns/a'));
    q.upsert(pod('ns/b'));
    q.backoff('ns/a', 0);
    expect(q.counts(0)).toEqual({ active: 1, backoff: 1 });
    expect(q.moveAllToActive()).toBe(1);
    expect(q.ready(0).map((p) => p.key)).toEqual(['ns/a', 'ns/b']);
  });

  it('keeps backoff on a spec update but resets it for a new pod with the same name', () => {
    const q = new SchedulingQueue();
    q.upsert(pod('ns/a', 0, 0, 'u1'));
    q.backoff('ns/a', 0);
    q.upsert(pod('ns/a', 5, 0, 'u1'));
    expect(q.ready(0)).toEqual([]);
    expect(q.get('ns/a')?.priority).toBe(5);
    q.upsert(pod('ns/a', 0, 0, 'u2'));
    expect(q.ready(0).map((p) => p.uid)).toEqual(['u2']);
    expect(q.attempts('ns/a')).toBe(0);
  });

  it('deletes', () => {
    const q = new SchedulingQueue();
    q.upsert(pod('ns/a'));
    expect(q.delete('ns/a')).toBe(true);
    expect(q.delete('ns/a')).toBe(false);
    expect(q.size).toBe(0);
  });

  it('rejects nonsensical backoff settings', () => {
    expect(() => new SchedulingQueue({ initialBackoffMs: 0 })).toThrow(/backoff/);
    expect(() => new SchedulingQueue({ initialBackoffMs: 5000, maxBackoffMs: 1000 })).toThrow(/backoff/);
  });
});
