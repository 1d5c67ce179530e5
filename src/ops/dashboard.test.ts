import { createRegistry } from '../telemetry/metrics.js';
import type { DashboardState, FaultAction, FaultAgent, FaultApi, FaultResult } from './types.js';
import { createOpsApp } from './app.js';
import { dashboardRouter, dashboardView, type DashboardRouterOptions, type DashboardView } from './dashboard.js';
import { startOpsServer, type OpsServer } from './server.js';

function agent(id: string, hostname: string) {
  return { id, hostname, nodeName: hostname, kubelet: 'running', pods: [{ key: 'ns/p', phase: 'Running', taskState: 'TASK_RUNNING' }], used: { cpus: 0.5, mem: 256 }, free: { cpus: 3.5, mem: 7936 }, lastOfferAgoMs: 10, lost: false };
}

const STATE: DashboardState = {
  atMs: 1000,
  subscribed: true,
  frameworkId: 'fw-1',
  zones: [
    { name: 'a', agents: [agent('A-S0', 'agent-0')] },
    { name: 'b', agents: [agent('A-S1', 'agent-1')] },
  ],
  pending: [{ key: 'ns/big', message: '0/2 agents available: 2 Insufficient cpu', sinceMs: 500 }],
  events: [{ atMs: 900, type: 'Normal', reason: 'Scheduled', object: 'ns/p', message: 'assigned to agent-0' }],
  unhealthyZones: [],
  totals: { agents: 2, kubelets: 2, tasks: 2, pending: 1, offersHeld: 0 },
};

const EMULATOR_AGENTS: FaultAgent[] = [
  { id: 'A-S0', hostname: 'agent-0', zone: 'a', state: 'disconnected', reachable: false },
  { id: 'A-S1', hostname: 'agent-1', zone: 'b', state: 'active', reachable: true },
];

/** A FaultApi that records calls and answers from a script. */
function fakeFaults(over: Partial<FaultApi> = {}) {
  const calls: string[] = [];
  const api: FaultApi = {
    agents: async () => ({ ok: true, value: EMULATOR_AGENTS }),
    agent: async (id: string, action: FaultAction): Promise<FaultResult<{ id: string; state: string; reachable: boolean }>> => {
      calls.push(`agent ${id} ${action}`);
      return id === 'missing' ? { ok: false, status: 404, error: 'agent "missing" not found' } : { ok: true, value: { id, state: 'disconnected', reachable: false } };
    },
    zone: async (zone: string, action: FaultAction): Promise<FaultResult<{ zone: string; agents: string[] }>> => {
      calls.push(`zone ${zone} ${action}`);
      return { ok: true, value: { zone, agents: ['A-S0'] } };
    },
    ...over,
  };
  return { api, calls };
}

const servers: OpsServer[] = [];
async function serve(o: DashboardRouterOptions): Promise<string> {
  const app = createOpsApp({ health: () => true, readiness: () => ({ ready: true, checks: {} }), registry: createRegistry(), debugState: () => ({}), routes: dashboardRouter(o) });
  const s = await startOpsServer(app, '127.0.0.1:0');
  servers.push(s);
  return s.url;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const post = (url: string, contentType = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body: '{}' });

describe('dashboardView', () => {
  it('adds the emulator state to the agents it lists and leaves the rest alone', () => {
    const v = dashboardView(STATE, { agents: [EMULATOR_AGENTS[0]] });
    expect(v.zones[0].agents[0].mesos).toEqual({ state: 'disconnected', reachable: false });
    expect(v.zones[1].agents[0].mesos).toBeUndefined();
    expect(v.faults).toEqual({ available: true });
    expect(STATE.zones[0].agents[0]).not.toHaveProperty('mesos'); // input untouched
  });

  it.each<[string, Parameters<typeof dashboardView>[1], DashboardView['faults']]>([
    ['no fault API (the scheduler)', undefined, { available: false }],
    ['fault API answered', { agents: [] }, { available: true }],
    ['fault API failed', { error: 'emulator down' }, { available: false, error: 'emulator down' }],
  ])('faults flag: %s', (_name, faults, expected) => {
    expect(dashboardView(STATE, faults).faults).toEqual(expected);
  });
});

describe('GET /api/dashboard', () => {
  it('serves the framework state without fault buttons on the scheduler', async () => {
    const url = await serve({ state: () => STATE });
    const res = await fetch(`${url}/api/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as DashboardView;
    expect(body.zones.map((z) => z.name)).toEqual(['a', 'b']);
    expect(body.pending[0].message).toContain('Insufficient cpu');
    expect(body.faults).toEqual({ available: false });
  });

  it('joins agent states from the fault API in the sandbox', async () => {
    const url = await serve({ state: () => STATE, faults: fakeFaults().api });
    const body = (await (await fetch(`${url}/api/dashboard`)).json()) as DashboardView;
    expect(body.zones[0].agents[0].mesos).toEqual({ state: 'disconnected', reachable: false });
    expect(body.faults.available).toBe(true);
  });

  it('still answers when the fault API does not, saying why', async () => {
    const { api } = fakeFaults({ agents: async () => ({ ok: false, status: 502, error: 'emulator did not answer' }) });
    const url = await serve({ state: () => STATE, faults: api });
    const body = (await (await fetch(`${url}/api/dashboard`)).json()) as DashboardView;
    expect(body.faults).toEqual({ available: false, error: 'emulator did not answer' });
    expect(body.zones).toHaveLength(2);
  });

  it('answers 503 with the reason while there is no state (standby)', async () => {
    const url = await serve({ state: () => undefined, unavailable: () => 'standby: another replica leads' });
    const res = await fetch(`${url}/api/dashboard`);
    expect([res.status, await res.json()]).toEqual([503, { error: 'standby: another replica leads' }]);
  });

  it('reports a state provider that throws as a 500, not a crash', async () => {
    const url = await serve({
      state: () => {
        throw new Error('boom');
      },
    });
    const res = await fetch(`${url}/api/dashboard`);
    expect([res.status, await res.json()]).toEqual([500, { error: 'boom' }]);
  });
});

describe('POST /api/faults', () => {
  it.each<[string, string, number, string | undefined]>([
    ['fail an agent', '/api/faults/agents/A-S0/fail', 200, 'agent A-S0 fail'],
    ['recover an agent', '/api/faults/agents/A-S0/recover', 200, 'agent A-S0 recover'],
    ['fail a zone', '/api/faults/zones/a/fail', 200, 'zone a fail'],
    ['recover a zone', '/api/faults/zones/us-east-1a/recover', 200, 'zone us-east-1a recover'],
    ['unknown action', '/api/faults/agents/A-S0/partition', 404, undefined],
    ['unknown target kind', '/api/faults/racks/r1/fail', 404, undefined],
    ['bad agent id', '/api/faults/agents/..%2Fetc/fail', 400, undefined],
    ['bad zone', '/api/faults/zones/a%20b/fail', 400, undefined],
    ['agent the emulator does not know', '/api/faults/agents/missing/fail', 404, 'agent missing fail'],
  ])('%s', async (_name, path, status, call) => {
    const { api, calls } = fakeFaults();
    const url = await serve({ state: () => STATE, faults: api });
    const res = await post(`${url}${path}`);
    const body = (await res.json()) as { error?: string; ok?: boolean };
    expect(res.status).toBe(status);
    expect(calls).toEqual(call ? [call] : []);
    if (status === 200) expect(body.ok).toBe(true);
    else expect(body.error).toEqual(expect.any(String));
  });

  it('refuses posts that are not JSON, so other web pages cannot press the buttons', async () => {
    const { api, calls } = fakeFaults();
    const url = await serve({ state: () => STATE, faults: api });
    const res = await post(`${url}/api/faults/zones/a/fail`, 'application/x-www-form-urlencoded');
    expect(res.status).toBe(415);
    expect(calls).toEqual([]);
  });

  it('says fault injection is sandbox-only on the scheduler', async () => {
    const url = await serve({ state: () => STATE });
    const res = await post(`${url}/api/faults/zones/a/fail`);
    expect(res.status).toBe(501);
    expect(((await res.json()) as { error: string }).error).toMatch(/only in the sandbox/);
  });
});
