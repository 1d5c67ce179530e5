import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createRegistry } from '../telemetry/metrics.js';
import { createOpsApp, stateReplacer, type OpsDeps, type Readiness } from './app.js';
import { SchedulerMetrics } from './metrics.js';
import { parseListen, startOpsServer, type OpsServer } from './server.js';

/** Deps whose answers a test can change between requests. */
function fakeDeps(over: Partial<OpsDeps> = {}) {
  const state = {
    healthy: true,
    readiness: { ready: true, checks: { mesosSubscribed: true, informersSynced: true, leaderOrStandby: true } } as Readiness,
    debug: {} as unknown,
  };
  const registry = createRegistry();
  const metrics = new SchedulerMetrics(registry);
  const deps: OpsDeps = {
    health: () => state.healthy,
    readiness: () => state.readiness,
    registry,
    debugState: () => state.debug,
    ...over,
  };
  return { state, metrics, deps };
}

const servers: OpsServer[] = [];
async function serve(deps: OpsDeps): Promise<string> {
  const s = await startOpsServer(createOpsApp(deps), '127.0.0.1:0');
  servers.push(s);
  return s.url;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('ops app', () => {
  it('/healthz follows the health provider', async () => {
    const { state, deps } = fakeDeps();
    const url = await serve(deps);
    let res = await fetch(`${url}/healthz`);
    expect([res.status, await res.text()]).toEqual([200, 'ok\n']);
    state.healthy = false;
    res = await fetch(`${url}/healthz`);
    expect([res.status, await res.text()]).toEqual([503, 'unhealthy\n']);
  });

  it.each<[string, Readiness, number, Record<string, string> | undefined]>([
    ['ready', { ready: true, checks: { mesosSubscribed: true, informersSynced: true } }, 200, undefined],
    ['not subscribed', { ready: false, checks: { mesosSubscribed: false, informersSynced: true } }, 503, { mesosSubscribed: 'failed' }],
    ['a check with a reason', { ready: false, checks: { mesosSubscribed: true, informersSynced: 'pods not synced' } }, 503, { informersSynced: 'pods not synced' }],
    ['summary says ready but a check fails', { ready: true, checks: { leaderOrStandby: false } }, 503, { leaderOrStandby: 'failed' }],
  ])('/readyz: %s', async (_name, readiness, status, failing) => {
    const { state, deps } = fakeDeps();
    state.readiness = readiness;
    const url = await serve(deps);
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(status);
    const body = (await res.json()) as { ready: boolean; checks: unknown; failing?: unknown };
    expect(body.ready).toBe(status === 200);
    expect(body.checks).toEqual(readiness.checks);
    expect(body.failing).toEqual(failing);
  });

  it('/metrics serves the text exposition of the given registry', async () => {
    const { metrics, deps } = fakeDeps();
    metrics.offersReceived.inc(3);
    metrics.pendingPods.set(7);
    metrics.setMesosConnectionState('subscribed');
    const url = await serve(deps);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toContain('kube_mesos_offers_received_total 3\n');
    expect(text).toContain('kube_mesos_pending_pods 7\n');
    expect(text).toContain('kube_mesos_mesos_connection_state{state="subscribed"} 1\n');
    expect(text).toContain('kube_mesos_mesos_connection_state{state="disconnected"} 0\n');
  });

  it('/debug/state serves JSON, converting Maps, Sets and bigints', async () => {
    const { state, deps } = fakeDeps();
    state.debug = { agents: new Map([['a1', { zone: 'a', offers: new Set(['o1', 'o2']) }]]), queue: [{ pod: 'ns/p' }], frameworkEpoch: 5n };
    const url = await serve(deps);
    const res = await fetch(`${url}/debug/state`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ agents: { a1: { zone: 'a', offers: ['o1', 'o2'] } }, queue: [{ pod: 'ns/p' }], frameworkEpoch: '5' });
  });

  it('a provider that throws gives 500 (503 for probes), and the server keeps serving', async () => {
    const { deps } = fakeDeps({
      debugState: () => {
        throw new Error('snapshot failed');
      },
      health: () => {
        throw new Error('loop stuck');
      },
    });
    const url = await serve(deps);
    let res = await fetch(`${url}/debug/state`);
    expect([res.status, await res.json()]).toEqual([500, { error: 'snapshot failed' }]);
    res = await fetch(`${url}/healthz`);
    expect(res.status).toBe(503);
    res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
  });

  it('serves the public folder at / and 404s unknown paths as JSON', async () => {
    const { deps } = fakeDeps();
    const url = await serve(deps);
    let res = await fetch(`${url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('kube-mesos');
    res = await fetch(`${url}/nope`);
    expect([res.status, await res.json()]).toEqual([404, { error: 'not found: GET /nope' }]);
  });

  it('serves another public folder and extra routes when given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-public-'));
    writeFileSync(join(dir, 'app.js'), 'console.log(1)');
    const routes = express.Router();
    routes.get('/api/hello', (_req, res) => {
      res.json({ hello: 'world' });
    });
    const { deps } = fakeDeps({ publicDir: dir, routes });
    const url = await serve(deps);
    expect(await (await fetch(`${url}/app.js`)).text()).toBe('console.log(1)');
    expect(await (await fetch(`${url}/api/hello`)).json()).toEqual({ hello: 'world' });
  });
});

describe('startOpsServer', () => {
  it('reports a port in use clearly', async () => {
    const { deps } = fakeDeps();
    const first = await startOpsServer(createOpsApp(deps), '127.0.0.1:0');
    servers.push(first);
    await expect(startOpsServer(createOpsApp(deps), `127.0.0.1:${first.port}`)).rejects.toThrow(`ops server: cannot listen on 127.0.0.1:${first.port}: listen EADDRINUSE`);
  });

  it('close() ends keep-alive connections and can be called twice', async () => {
    const { deps } = fakeDeps();
    const s = await startOpsServer(createOpsApp(deps), '127.0.0.1:0');
    const res = await fetch(`${s.url}/healthz`, { keepalive: true });
    await res.text();
    await Promise.all([s.close(), s.close()]);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it.each<[string, ReturnType<typeof parseListen>]>([
    ['0.0.0.0:10251', { ok: true, host: '0.0.0.0', port: 10251 }],
    [':8080', { ok: true, host: undefined, port: 8080 }],
    ['[::1]:0', { ok: true, host: '::1', port: 0 }],
    ['localhost', { ok: false, error: 'listen address "localhost" is not host:port' }],
    ['h:70000', { ok: false, error: 'listen address "h:70000" is not host:port' }],
  ])('parseListen(%p)', (listen, expected) => expect(parseListen(listen)).toEqual(expected));

  it('shows an all-interfaces address as loopback in its URL', async () => {
    const { deps } = fakeDeps();
    const s = await startOpsServer(createOpsApp(deps), '0.0.0.0:0');
    servers.push(s);
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  });
});

describe('stateReplacer', () => {
  it('converts nested Maps and errors', () => {
    const json = JSON.stringify({ m: new Map([[1, new Map([['x', 1n]])]]), e: new TypeError('bad') }, stateReplacer);
    expect(JSON.parse(json)).toEqual({ m: { '1': { x: '1' } }, e: { name: 'TypeError', message: 'bad' } });
  });
});
