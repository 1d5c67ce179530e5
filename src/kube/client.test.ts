import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRegistry } from '../telemetry/metrics.js';
import { KubeClient, failureKind, rfc3339Micro } from './client.js';
import { localKubeConfig } from './testing/local-kubeconfig.js';

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
  /** The path without the query. */
  url: string;
  query: Record<string, string>;
  userAgent?: string;
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
      const u = new URL(req.url!, 'http://x');
      const s: Seen = { method: req.method!, url: u.pathname, query: Object.fromEntries(u.searchParams), userAgent: req.headers['user-agent'], contentType: req.headers['content-type'], body: text ? JSON.parse(text) : undefined };
      seen.push(s);
      const [status, body] = reply(s);
      setTimeout(() => {
        inFlight--;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }, 5);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = localKubeConfig(server, 'secret-token');
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
    if (r.ok) expect(r.value.status?.conditions?.[0].lastTransitionTime).toBe('2026-01-01T00:00:00Z'); // the API server's JSON, as informer objects
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

  it('sends User-Agent kube-mesos/<version> (<os>/<arch>) on every request and fieldManager=kube-mesos on every create, update and patch', async () => {
    answer = (x) => [x.method === 'POST' ? 201 : 200, { metadata: { name: 'n' } }];
    await client.getPod('ns1', 'p');
    await client.createPod('ns1', { metadata: { name: 'p', creationTimestamp: new Date('2026-01-01T00:00:00Z') } });
    await client.bindPod('ns1', 'p', undefined, 'node-a');
    await client.patchPodAnnotations('ns1', 'p', { a: 'b' });
    await client.setPodScheduledCondition({ metadata: { name: 'p', namespace: 'ns1' } }, { status: 'True' });
    await client.evictPod('ns1', 'p');
    await client.deletePod('ns1', 'p');
    await client.createNode({ metadata: { name: 'n' } });
    await client.patchNode('n', { metadata: { labels: { a: 'b' } } });
    await client.patchNodeStatus('n', { status: {} });
    await client.replaceConfigMap('ns1', { metadata: { name: 'c' } });
    await client.raw('POST', '/api/v1/namespaces/ns1/events', { body: {} });
    await client.raw('PUT', '/apis/coordination.k8s.io/v1/namespaces/ns1/leases/l', { body: {} });
    expect(srv.seen).toHaveLength(13);
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    for (const x of srv.seen) expect(x.userAgent).toMatch(new RegExp(`^kube-mesos/${version.replace(/\./g, '\\.')} \\((linux|darwin|win32)/(amd64|arm64|[a-z0-9]+)\\)$`));
    const writes = srv.seen.filter((x) => ['POST', 'PUT', 'PATCH'].includes(x.method));
    expect(writes).toHaveLength(11);
    for (const x of writes) expect([x.method, x.url, x.query.fieldManager]).toEqual([x.method, x.url, 'kube-mesos']);
    for (const x of srv.seen.filter((y) => !writes.includes(y))) expect(x.query.fieldManager).toBeUndefined();
    // a Date in a model object goes out as RFC 3339
    expect((srv.seen[1].body as { metadata: { creationTimestamp: string } }).metadata.creationTimestamp).toBe('2026-01-01T00:00:00.000Z');
  });

  it('counts requests by verb, resource and code, and limiter waits, on the registry given', async () => {
    const registry = createRegistry();
    const c = new KubeClient(srv.kc, { registry });
    answer = (x) => (x.url.endsWith('/binding') ? [409, status(409, 'Conflict')] : [200, { items: [] }]);
    await c.getPod('ns1', 'p');
    await c.bindPod('ns1', 'p', undefined, 'a');
    await c.bindPod('ns1', 'p', undefined, 'a');
    await c.raw('GET', '/api/v1/namespaces/ns1/pods');
    await c.raw('GET', '/apis/coordination.k8s.io/v1/namespaces/ns1/leases/l');
    c.http.close();
    const text = await registry.metrics();
    expect(text).toContain('kube_mesos_rest_client_requests_total{verb="get",resource="pods",code="200"} 1');
    expect(text).toContain('kube_mesos_rest_client_requests_total{verb="create",resource="pods/binding",code="409"} 2');
    expect(text).toContain('kube_mesos_rest_client_requests_total{verb="list",resource="pods",code="200"} 1');
    expect(text).toContain('kube_mesos_rest_client_requests_total{verb="get",resource="leases",code="200"} 1');
    expect(text).toContain('kube_mesos_rest_client_request_duration_seconds_count{verb="create",resource="pods/binding"} 2');
    expect(text).toContain('kube_mesos_rest_client_rate_limiter_duration_seconds_count{verb="get"} 2');
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
