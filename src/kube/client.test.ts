import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, failureKind, rfc3339Micro } from './client.js';

describe('failureKind', () => {
  it.each([
    [0, undefined, 'Retryable'],
    [404, 'NotFound', 'NotFound'],
    [409, 'Conflict', 'Conflict'],
    [409, 'AlreadyExists', 'AlreadyExists'],
    [403, 'Forbidden', 'Forbidden'],
    [401, 'Unauthorized', 'Unauthorized'],
    [422, 'Invalid', 'Invalid'],
    [400, 'BadRequest', 'Invalid'],
    [410, 'Expired', 'Gone'],
    [429, 'TooManyRequests', 'Retryable'],
    [500, 'InternalError', 'Retryable'],
    [503, 'ServiceUnavailable', 'Retryable'],
    [418, undefined, 'Unknown'],
  ])('%i %s -> %s', (status, reason, kind) => {
    expect(failureKind(status, reason)).toBe(kind);
  });
});

interface Seen {
  method: string;
  url: string;
  contentType?: string;
  body: unknown;
}

/** A scripted API server: answers each request with `reply(seen)`. */
async function fakeServer(reply: (s: Seen) => [number, unknown]) {
  const seen: Seen[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString();
      const s: Seen = { method: req.method!, url: req.url!, contentType: req.headers['content-type'], body: text ? JSON.parse(text) : undefined };
      seen.push(s);
      const [status, body] = reply(s);
      setTimeout(() => {
        inFlight--;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }, 5);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return { seen, kc, maxInFlight: () => maxInFlight, close: () => new Promise((r) => server.close(r)) };
}

const status = (code: number, reason: string) => ({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `msg ${reason}` });

describe('KubeClient against a scripted server', () => {
  let srv: Awaited<ReturnType<typeof fakeServer>>;
  let answer: (s: Seen) => [number, unknown];
  let client: KubeClient;
  beforeEach(async () => {
    answer = () => [200, {}];
    srv = await fakeServer((s) => answer(s));
    client = new KubeClient(srv.kc, { maxInFlight: 3 });
  });
  afterEach(async () => {
    client.http.close();
    await srv.close();
  });

  it('binds through pods/binding with the uid as precondition, and reports a second bind as Conflict', async () => {
    answer = () => [201, status(201, '')];
    expect(await client.bindPod('ns1', 'p', 'uid-1', 'node-a')).toEqual({ ok: true, value: undefined });
    expect(srv.seen[0]).toMatchObject({
      method: 'POST',
      url: '/api/v1/namespaces/ns1/pods/p/binding',
      body: { kind: 'Binding', metadata: { name: 'p', namespace: 'ns1', uid: 'uid-1' }, target: { kind: 'Node', name: 'node-a' } },
    });
    answer = () => [409, status(409, 'Conflict')];
    const r = await client.bindPod('ns1', 'p', 'uid-1', 'node-b');
    expect(r).toMatchObject({ ok: false, kind: 'Conflict', status: 409, message: 'msg Conflict' });
  });

  it('patches PodScheduled through the status subresource, keeping lastTransitionTime when status is unchanged', async () => {
    answer = (s) => [200, { metadata: { name: 'p', namespace: 'ns1' }, status: (s.body as { status: unknown }).status }];
    const now = new Date('2026-01-01T00:00:10Z');
    const pod = {
      metadata: { name: 'p', namespace: 'ns1' },
      status: { conditions: [{ type: 'PodScheduled', status: 'False', lastTransitionTime: new Date('2026-01-01T00:00:00Z') }] },
    };
    const r = await client.setPodScheduledCondition(pod, { status: 'False', reason: 'Unschedulable', message: '0/3 agents available: 3 Insufficient cpu.' }, now);
    expect(r.ok).toBe(true);
    expect(srv.seen[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/namespaces/ns1/pods/p/status',
      contentType: 'application/strategic-merge-patch+json',
      body: { status: { conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: '2026-01-01T00:00:00Z' }] } },
    });
    await client.setPodScheduledCondition(pod, { status: 'True' }, now);
    expect((srv.seen[1].body as { status: { conditions: Array<{ lastTransitionTime: string }> } }).status.conditions[0].lastTransitionTime).toBe('2026-01-01T00:00:10Z');
    if (r.ok) expect(r.value.status?.conditions?.[0].lastTransitionTime).toBeInstanceOf(Date); // typed model, as client-node returns
  });

  it.each([
    [429, 'DisruptionBudget'],
    [404, 'NotFound'],
    [500, 'Retryable'],
  ])('evictPod: %i -> %s', async (code, kind) => {
    answer = () => [code, status(code, 'x')];
    const r = await client.evictPod('ns1', 'p', { uid: 'u1' });
    expect(r).toMatchObject({ ok: false, kind });
    expect(srv.seen[0]).toMatchObject({
      url: '/api/v1/namespaces/ns1/pods/p/eviction',
      body: { apiVersion: 'policy/v1beta1', kind: 'Eviction', deleteOptions: { preconditions: { uid: 'u1' } } },
    });
  });

  it('deletePod sends grace period and uid precondition; cordon merge-patches spec.unschedulable', async () => {
    await client.deletePod('ns1', 'p', { gracePeriodSeconds: 5, uid: 'u9' });
    await client.cordonNode('n1');
    await client.patchPodAnnotations('ns1', 'p', { 'kube-mesos.io/task-id': 't1', old: null });
    expect(srv.seen.map((s) => [s.method, s.url, s.contentType, s.body])).toEqual([
      ['DELETE', '/api/v1/namespaces/ns1/pods/p', 'application/json', { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 5, preconditions: { uid: 'u9' } }],
      ['PATCH', '/api/v1/nodes/n1', 'application/merge-patch+json', { spec: { unschedulable: true } }],
      ['PATCH', '/api/v1/namespaces/ns1/pods/p', 'application/merge-patch+json', { metadata: { annotations: { 'kube-mesos.io/task-id': 't1', old: null } } }],
    ]);
  });

  it('keeps at most maxInFlight requests open', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.getPod('ns1', `p${i}`)));
    expect(srv.seen).toHaveLength(20);
    expect(srv.maxInFlight()).toBeLessThanOrEqual(3);
    expect(srv.maxInFlight()).toBeGreaterThan(1);
  });

  it('reports a refused connection as Retryable, without throwing', async () => {
    await srv.close();
    client.http.close();
    const r = await client.getPod('ns1', 'p');
    expect(r).toMatchObject({ ok: false, kind: 'Retryable', status: 0 });
    srv = await fakeServer(() => [200, {}]); // for afterEach
  });
});

describe('rfc3339Micro', () => {
  it('writes six fractional digits', () => {
    expect(rfc3339Micro(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000Z');
  });
});
