// bindPodWithAnnotations against a scripted API server: its retries, and their cancellation when the task ends.
import http from 'node:http';
import { sleep } from '../time/backoff.js';
import { bindPodWithAnnotations, type BindingTarget } from './binding.js';
import { KubeClient } from './client.js';
import { KubeHttp } from './http.js';
import { localKubeConfig } from './testing/local-kubeconfig.js';

const target: BindingTarget = { namespace: 'ns', name: 'p1', uid: 'u1', nodeName: 'n1', annotations: { 'kube-mesos.io/task-id': 't1' } };
const pod = (nodeName?: string) => ({ kind: 'Pod', metadata: { name: 'p1', namespace: 'ns', uid: 'u1', annotations: target.annotations }, spec: { nodeName } });

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

/** An API server answering each POST .../binding and GET .../pods/p1 from its script, in order (last one repeated). */
async function apiServer(script: { post: (n: number) => Answer | Promise<Answer>; get: () => Answer }) {
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls.push(req.method ?? '');
      const n = calls.filter((c) => c === 'POST').length;
      void Promise.resolve(req.method === 'POST' ? script.post(n) : script.get()).then((a) => {
        res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
        res.end(JSON.stringify(a.body ?? { kind: 'Status' }));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = localKubeConfig(server);
  return {
    calls,
    kc,
    posts: () => calls.filter((c) => c === 'POST').length,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('bindPodWithAnnotations and its signal', () => {
  let api: Awaited<ReturnType<typeof apiServer>> | undefined;
  let kube: KubeClient | undefined;
  afterEach(async () => {
    kube?.http.close();
    await api?.close();
    api = kube = undefined;
  });

  it('an abort during its backoff ends the wait: no further POST, cancelled', async () => {
    api = await apiServer({ post: () => ({ status: 500, body: { kind: 'Status', message: 'etcd' } }), get: () => ({ status: 200, body: pod() }) });
    kube = new KubeClient(api.kc);
    const ac = new AbortController();
    const waits: [number, boolean][] = [];
    const out = await bindPodWithAnnotations(kube, target, {
      signal: ac.signal,
      random: () => 0.5,
      sleep: (ms, signal) => {
        ac.abort(); // the task ends while the Binding waits
        waits.push([ms, signal?.aborted ?? false]);
        return sleep(ms, signal);
      },
    });
    expect(out).toEqual({ kind: 'cancelled' });
    expect(waits).toHaveLength(1);
    expect(waits[0][1]).toBe(true); // the wait was given the signal (sleep resolves at once on it)
    expect(api.calls).toEqual(['POST', 'GET']);
  });

  it('an abort during a Retry-After wait in the transport sends no retry: cancelled', async () => {
    api = await apiServer({
      post: (n) => (n === 1 ? { status: 429, headers: { 'Retry-After': '1' }, body: { kind: 'Status', reason: 'TooManyRequests' } } : { status: 201 }),
      get: () => ({ status: 200, body: pod() }),
    });
    const ac = new AbortController();
    const waits: [number, boolean][] = [];
    kube = new KubeClient(
      new KubeHttp(api.kc, {
        sleep: (ms, signal) => {
          ac.abort(); // the task ends during the Retry-After
          waits.push([ms, signal?.aborted ?? false]);
          return sleep(ms, signal);
        },
      }),
    );
    const out = await bindPodWithAnnotations(kube, target, { signal: ac.signal });
    expect(out).toEqual({ kind: 'cancelled' });
    expect(waits).toEqual([[1000, true]]); // the Retry-After wait was given the signal
    expect(api.posts()).toBe(1);
  });

  it('an abort while the Binding waits for the client rate limiter sends nothing: cancelled', async () => {
    let answerHolder: (a: Answer) => void = () => {};
    api = await apiServer({ post: () => new Promise<Answer>((r) => (answerHolder = r)), get: () => ({ status: 200, body: pod() }) });
    const http1 = new KubeHttp(api.kc, { maxInFlight: 1 });
    kube = new KubeClient(http1);
    // another write holds the only slot: the Binding queues behind it
    const holder = kube.raw('POST', '/api/v1/namespaces/ns/pods/other/binding', { body: {}, discardBody: true });
    while (api.calls.length < 1) await sleep(5);
    const ac = new AbortController();
    const bound = bindPodWithAnnotations(kube, target, { signal: ac.signal });
    while (http1.limiterState.pending < 1) await sleep(5);
    ac.abort(); // the task ends while its Binding is queued
    await expect(bound).resolves.toEqual({ kind: 'cancelled' });
    answerHolder({ status: 201 });
    await holder;
    expect(api.calls).toEqual(['POST']); // the holder only: neither the Binding nor its GET went out
    expect(http1.limiterState).toEqual({ active: 0, pending: 0 });
  });

  it('a POST on the wire is not cut by the abort: if it bound the pod, bound', async () => {
    const ac = new AbortController();
    api = await apiServer({
      post: async () => {
        ac.abort(); // the task ends while the POST is on the wire
        await sleep(20);
        return { status: 201 };
      },
      get: () => ({ status: 200, body: pod() }),
    });
    kube = new KubeClient(api.kc);
    expect(await bindPodWithAnnotations(kube, target, { signal: ac.signal })).toEqual({ kind: 'bound' });
    expect(api.posts()).toBe(1);
  });

  it('a POST whose answer failed after the abort, but which bound the pod here, is already-bound (not cancelled)', async () => {
    const ac = new AbortController();
    api = await apiServer({
      post: () => {
        ac.abort();
        return { status: 504, body: { kind: 'Status', message: 'timeout' } };
      },
      get: () => ({ status: 200, body: pod('n1') }),
    });
    kube = new KubeClient(api.kc);
    expect(await bindPodWithAnnotations(kube, target, { signal: ac.signal })).toEqual({ kind: 'already-bound' });
    expect(api.calls).toEqual(['POST', 'GET']);
  });

  it('an abort before the first POST sends nothing', async () => {
    api = await apiServer({ post: () => ({ status: 201 }), get: () => ({ status: 200, body: pod() }) });
    kube = new KubeClient(api.kc);
    const ac = new AbortController();
    ac.abort();
    expect(await bindPodWithAnnotations(kube, target, { signal: ac.signal })).toEqual({ kind: 'cancelled' });
    expect(api.calls).toEqual([]);
  });

  it('without an abort, retries as before until bound', async () => {
    api = await apiServer({ post: (n) => (n < 3 ? { status: 409, body: { kind: 'Status', reason: 'Conflict' } } : { status: 201 }), get: () => ({ status: 200, body: pod() }) });
    kube = new KubeClient(api.kc);
    const waits: number[] = [];
    const out = await bindPodWithAnnotations(kube, target, { signal: new AbortController().signal, random: () => 0.5, sleep: async (ms) => void waits.push(ms) });
    expect(out).toEqual({ kind: 'bound' });
    expect(api.posts()).toBe(3);
    expect(waits).toHaveLength(2);
  });
});
