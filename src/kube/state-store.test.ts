import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Result } from './client.js';
import { ConfigMapStateStore } from './state-store.js';

/** One namespace's ConfigMaps with resourceVersion checks; each call yields so concurrent writers interleave. */
class FakeConfigMaps {
  store = new Map<string, V1ConfigMap>();
  rv = 0;
  writes = 0;
  failGet = false;
  private seed = 42;
  // seeded interleaving: each call yields for 0 or 1 ms
  private tick = () => new Promise((r) => setTimeout(r, (this.seed = (this.seed * 1103515245 + 12345) % 2 ** 31) % 2));
  async getConfigMap(_ns: string, name: string): Promise<Result<V1ConfigMap>> {
    await this.tick();
    if (this.failGet) return { ok: false, kind: 'Forbidden', status: 403, message: 'nope' };
    const cm = this.store.get(name);
    return cm ? { ok: true, value: structuredClone(cm) } : { ok: false, kind: 'NotFound', status: 404, message: 'not found' };
  }
  async createConfigMap(_ns: string, cm: V1ConfigMap): Promise<Result<V1ConfigMap>> {
    await this.tick();
    const name = cm.metadata!.name!;
    if (this.store.has(name)) return { ok: false, kind: 'AlreadyExists', status: 409, message: 'exists' };
    return this.put(name, cm);
  }
  async replaceConfigMap(_ns: string, cm: V1ConfigMap): Promise<Result<V1ConfigMap>> {
    await this.tick();
    const name = cm.metadata!.name!;
    const cur = this.store.get(name);
    if (!cur) return { ok: false, kind: 'NotFound', status: 404, message: 'not found' };
    if (cur.metadata!.resourceVersion !== cm.metadata?.resourceVersion) return { ok: false, kind: 'Conflict', status: 409, message: 'conflict' };
    return this.put(name, cm);
  }
  private put(name: string, cm: V1ConfigMap): Result<V1ConfigMap> {
    this.writes++;
    const stored = { ...structuredClone(cm), metadata: { ...cm.metadata, name, resourceVersion: String(++this.rv) } };
    this.store.set(name, stored);
    return { ok: true, value: structuredClone(stored) };
  }
}

describe('ConfigMapStateStore', () => {
  it('round-trips the framework id, reading an absent ConfigMap as empty', async () => {
    const api = new FakeConfigMaps();
    const s = new ConfigMapStateStore({ client: api, namespace: 'kube-mesos' });
    expect(await s.getFrameworkId()).toEqual({ ok: true, value: undefined });
    expect((await s.setFrameworkId('fw-1')).ok).toBe(true);
    expect(await new ConfigMapStateStore({ client: api, namespace: 'kube-mesos' }).getFrameworkId()).toEqual({ ok: true, value: 'fw-1' });
    expect(api.store.get('kube-mesos-state')?.data).toEqual({ 'framework-id': 'fw-1' });
  });

  it('loses no update among concurrent writers (counter and distinct keys)', async () => {
    const api = new FakeConfigMaps();
    const stores = [0, 1, 2].map(() => new ConfigMapStateStore({ client: api, namespace: 'ns', maxAttempts: 100, random: () => 0 }));
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        stores[i % 3].update((d) => ({ ...d, counter: String(Number(d.counter ?? '0') + 1), [`k${i}`]: String(i) })).then((r) => expect(r.ok).toBe(true)),
      ),
    );
    const data = api.store.get('kube-mesos-state')!.data!;
    expect(data.counter).toBe('30');
    expect(Object.keys(data)).toHaveLength(31);
  });

  it('skips the write when nothing changes, and deletes keys', async () => {
    const api = new FakeConfigMaps();
    const s = new ConfigMapStateStore({ client: api, namespace: 'ns' });
    await s.set('a', '1');
    await s.set('a', '1');
    expect(api.writes).toBe(1);
    await s.delete('a');
    expect((await s.getAll()).ok && (await s.getAll())).toEqual({ ok: true, value: {} });
  });

  it.each([
    ['bad key', (d: Record<string, string>) => ({ ...d, 'no/slash': 'x' }), 'Invalid'],
    ['non-string', (d: Record<string, string>) => ({ ...d, n: 1 as unknown as string }), 'Invalid'],
  ])('rejects %s as Invalid without writing', async (_n, mutate, kind) => {
    const api = new FakeConfigMaps();
    const r = await new ConfigMapStateStore({ client: api, namespace: 'ns' }).update(mutate);
    expect(r).toMatchObject({ ok: false, kind });
    expect(api.writes).toBe(0);
  });

  it('passes through failures other than conflicts, and gives up after maxAttempts conflicts', async () => {
    const api = new FakeConfigMaps();
    api.failGet = true;
    expect(await new ConfigMapStateStore({ client: api, namespace: 'ns' }).get('x')).toMatchObject({ ok: false, kind: 'Forbidden' });
    api.failGet = false;
    const s = new ConfigMapStateStore({ client: api, namespace: 'ns', maxAttempts: 3, random: () => 0 });
    await s.set('a', '0');
    let calls = 0;
    // a rival write between every read and write
    const r = await s.update((d) => {
      calls++;
      const cm = api.store.get('kube-mesos-state')!;
      cm.metadata!.resourceVersion = String(++api.rv);
      return { ...d, a: 'mine' };
    });
    expect(r).toMatchObject({ ok: false, kind: 'Conflict' });
    expect(calls).toBe(3);
  });
});

describe('ConfigMapStateStore.getFrameworkIdUntilKnown (issue 16 item 2)', () => {
  it('retries a 503 with backoff instead of answering "no id", and returns the stored id once readable', async () => {
    const api = new FakeConfigMaps();
    await new ConfigMapStateStore({ client: api, namespace: 'ns' }).setFrameworkId('fw-old');
    let failures = 3;
    const flaky = {
      ...api,
      createConfigMap: api.createConfigMap.bind(api),
      replaceConfigMap: api.replaceConfigMap.bind(api),
      getConfigMap: async (ns: string, name: string): Promise<Result<V1ConfigMap>> =>
        failures-- > 0 ? { ok: false, kind: 'Retryable', status: 503, message: 'etcd leader changed' } : api.getConfigMap(ns, name),
    };
    const waits: number[] = [];
    const s = new ConfigMapStateStore({ client: flaky, namespace: 'ns', random: () => 0 });
    // Before the fix the caller used getFrameworkId(), which answers the 503 as an error the CLI read as "new framework".
    expect((await s.getFrameworkId()).ok).toBe(false);
    const r = await s.getFrameworkIdUntilKnown({ initialMs: 100, maxMs: 1000, sleep: async (ms) => void waits.push(ms) });
    expect(r).toEqual({ ok: true, value: 'fw-old' });
    expect(waits).toEqual([50, 100]); // equal jitter, random() = 0: half of 100, 200
  });

  it('answers "none" only when the store says so: ConfigMap absent (404) or key missing', async () => {
    const api = new FakeConfigMaps();
    const s = new ConfigMapStateStore({ client: api, namespace: 'ns' });
    const noSleep = async () => {
      throw new Error('must not wait');
    };
    expect(await s.getFrameworkIdUntilKnown({ sleep: noSleep })).toEqual({ ok: true, value: undefined });
    await s.set('other', 'x');
    expect(await s.getFrameworkIdUntilKnown({ sleep: noSleep })).toEqual({ ok: true, value: undefined });
  });

  it('keeps retrying a 403 until aborted, and then says so instead of inventing an answer', async () => {
    const api = new FakeConfigMaps();
    api.failGet = true;
    const s = new ConfigMapStateStore({ client: api, namespace: 'ns', random: () => 0 });
    const ac = new AbortController();
    let waits = 0;
    const r = await s.getFrameworkIdUntilKnown({ signal: ac.signal, initialMs: 1, maxMs: 4, sleep: async () => void (++waits === 5 && ac.abort()) });
    expect(r).toEqual({ ok: false, aborted: true });
    expect(waits).toBe(5);
  });
});
