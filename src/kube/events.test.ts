import type { Result } from './client.js';
import { EventRecorder } from './events.js';
import { until } from '../../test/support/until.js';

interface Ev {
  metadata: { name: string; namespace: string };
  count: number;
  message: string;
  reason: string;
  type: string;
  lastTimestamp: string;
  involvedObject: { uid?: string; name: string };
}

/** In-memory events endpoint implementing the recorder's one dependency. */
class FakeEvents {
  readonly store = new Map<string, Ev>();
  writes: string[] = [];
  failNext: Array<{ status: number; kind: 'Retryable' | 'Forbidden' }> = [];
  async raw<T>(method: string, path: string, opts: { body?: unknown } = {}): Promise<Result<T>> {
    await new Promise((r) => setTimeout(r, 1));
    this.writes.push(method);
    const f = this.failNext.shift();
    if (f) return { ok: false, kind: f.kind, status: f.status, message: 'injected' };
    if (method === 'POST') {
      const ev = opts.body as Ev;
      const key = `${ev.metadata.namespace}/${ev.metadata.name}`;
      if (this.store.has(key)) return { ok: false, kind: 'AlreadyExists', status: 409, message: 'exists' };
      this.store.set(key, structuredClone(ev));
      return { ok: true, value: ev as T };
    }
    const m = /namespaces\/([^/]+)\/events\/([^/]+)$/.exec(path)!;
    const ev = this.store.get(`${m[1]}/${m[2]}`);
    if (!ev) return { ok: false, kind: 'NotFound', status: 404, message: 'not found' };
    Object.assign(ev, opts.body);
    return { ok: true, value: ev as T };
  }
}

const pod = { metadata: { namespace: 'ns1', name: 'web-1', uid: 'uid-1' } };

function setup(opts: { burst?: number; refillMs?: number } = {}) {
  const api = new FakeEvents();
  const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
  const rec = new EventRecorder({ client: api, component: 'kube-mesos', instance: 'sched-1', now: () => new Date(clock.t), retryMs: 10, ...opts });
  return { api, rec, clock };
}

describe('EventRecorder', () => {
  it('folds 1000 identical failures into one Event whose count is 1000, with few writes', async () => {
    const { api, rec, clock } = setup();
    for (let i = 0; i < 1000; i++, clock.t += 1000) rec.failedScheduling(pod, '0/3 agents available: 3 Insufficient cpu.');
    await rec.flush();
    const events = [...api.store.values()];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ count: 1000, type: 'Warning', reason: 'FailedScheduling', involvedObject: { uid: 'uid-1', name: 'web-1' } });
    expect(api.writes.length).toBeLessThan(5);
    expect(events[0].lastTimestamp).toBe('2026-01-01T00:16:39Z'); // the 1000th record's time
  });

  it('keeps distinct messages and reasons apart', async () => {
    const { api, rec } = setup();
    rec.failedScheduling(pod, 'a');
    rec.failedScheduling(pod, 'b');
    rec.scheduled(pod, 'node-1');
    rec.failedScheduling({ metadata: { ...pod.metadata, uid: 'uid-2' } }, 'a');
    await rec.flush();
    const got = [...api.store.values()].map((e) => `${e.reason}|${e.message}|${e.involvedObject.uid}|${e.count}`).sort();
    expect(got).toEqual(['FailedScheduling|a|uid-1|1', 'FailedScheduling|a|uid-2|1', 'FailedScheduling|b|uid-1|1', 'Scheduled|Successfully assigned ns1/web-1 to node-1|uid-1|1']);
  });

  it('re-creates an Event that vanished, keeping the count', async () => {
    const { api, rec } = setup();
    rec.failedScheduling(pod, 'x');
    await rec.flush();
    api.store.clear();
    rec.failedScheduling(pod, 'x');
    await rec.flush();
    expect([...api.store.values()].map((e) => e.count)).toEqual([2]);
  });

  it('limits writes per object and writes the accumulated count when a token is back', async () => {
    const { api, rec } = setup({ burst: 1, refillMs: 3_600_000 });
    rec.failedScheduling(pod, 'x');
    await until(() => api.writes.length === 1, 'first write');
    await rec.flush();
    rec.failedScheduling(pod, 'x');
    rec.failedScheduling(pod, 'x');
    await new Promise((r) => setTimeout(r, 20));
    expect(api.writes).toHaveLength(1); // deferred: no token for an hour
    await rec.flush(); // shutdown writes it anyway
    expect(api.writes).toEqual(['POST', 'PATCH']);
    expect([...api.store.values()][0].count).toBe(3);
  });

  it('never throws: failed writes are counted, retryable ones retried', async () => {
    const { api, rec } = setup();
    api.failNext = [{ status: 503, kind: 'Retryable' }];
    rec.failedScheduling(pod, 'x');
    await until(() => api.store.size === 1, 'retried write');
    expect(rec.stats.failed).toBe(1);
    const broken = new EventRecorder({ client: { raw: () => Promise.reject(new Error('boom')) }, component: 'c' });
    expect(() => broken.failedScheduling(pod, 'x')).not.toThrow();
    await broken.flush();
    rec.failedScheduling({ metadata: {} }, 'no name: ignored');
    await rec.flush();
    expect(api.store.size).toBe(1);
  });
});
