// Maintenance in the emulator as a framework and an operator see it over HTTP: a schedule posted to
// /emulator/maintenance (or the master's /maintenance/schedule) makes offers carry `unavailability` and brings
// INVERSE_OFFERS to frameworks holding resources on those agents; answers show in /maintenance/status and
// GET /emulator/maintenance; removing the schedule rescinds what is outstanding. Both encodings, the project's client.
import { JSON_TYPE, PROTOBUF, type ContentType } from '../../src/mesos/codec.js';
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { eventually, rawRequest } from '../../src/emulator/testing.js';
import type { SchedulerEvent } from '../../src/emulator/proto-types.js';
import type { InverseOffer } from '../../src/mesos/types.js';

class Framework {
  readonly events: SchedulerEvent[] = [];
  readonly client: SchedulerClient;
  constructor(url: string, ct: ContentType) {
    this.client = new SchedulerClient({ masters: [url], framework: { user: 'root', name: 'maintenance-contract', failover_timeout: 3600 }, contentType: ct, backoff: { initialMs: 50, maxMs: 200 } });
    this.client.on('event', (ev) => this.events.push(ev));
  }
  inverseOffers(): InverseOffer[] {
    return this.events.flatMap((e) => (e.type === 'INVERSE_OFFERS' ? (e.inverse_offers.inverse_offers ?? []) : []));
  }
  rescinded(): string[] {
    return this.events.flatMap((e) => (e.type === 'RESCIND_INVERSE_OFFER' ? [e.rescind_inverse_offer.inverse_offer_id.value] : []));
  }
}

const post = (url: string, path: string, body: unknown, method = 'POST') => rawRequest(url, { method, path, headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const get = async <T>(url: string, path: string): Promise<T> => JSON.parse((await rawRequest(url, { method: 'GET', path })).body) as T;

interface EmulatorMaintenance {
  schedule: { windows: { machine_ids: { hostname?: string }[] }[] };
  agents: { id: string; hostname: string; accepted_by: string[]; declined_by: string[]; outstanding_inverse_offers: { id: string }[] }[];
  responses: { status: string; agent_id: string; framework_id: string }[];
}

describe.each([
  ['protobuf', PROTOBUF],
  ['json', JSON_TYPE],
] as const)('emulator maintenance through SchedulerClient (%s)', (_n, ct) => {
  let emu: RunningEmulator;
  let f: Framework;

  beforeEach(async () => {
    emu = await startEmulator({ listen: '127.0.0.1:0', agents: 3, zones: ['a'], allocationIntervalMs: 50, heartbeatIntervalMs: 1000, executorMode: 'inprocess', executorFactory: async () => undefined });
    f = new Framework(emu.url, ct);
    f.client.start();
    // the framework holds offers for every agent: it has resources there, so it is asked about their maintenance
    await eventually(() => new Set(f.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []).map((o) => o.agent_id.value) : []))).size === 3);
  });
  afterEach(async () => {
    await f.client.stop();
    await emu.stop();
  });

  it('a window posted as a shorthand: offers carry unavailability, INVERSE_OFFERS come with id, agent_id, framework_id and unavailability; ACCEPT shows as accepted', async () => {
    const agents = [...emu.master.agents.values()];
    const r = await post(emu.url, '/emulator/maintenance', { agents: [agents[0].id, agents[1].hostname], startInSeconds: 30, durationSeconds: 600 });
    expect(r.status).toBe(200);
    const before = Date.now();
    const ios = await eventually(() => f.inverseOffers().length >= 2 && f.inverseOffers(), 3000);
    expect(ios.map((io) => io.agent_id?.value).sort()).toEqual([agents[0].id, agents[1].id].sort());
    const fid = f.client.frameworkId!;
    for (const io of ios) {
      expect(io.framework_id.value).toBe(fid);
      expect(io.id.value).toBeTruthy();
      const startMs = Number(io.unavailability.start.nanoseconds) / 1e6;
      expect(Math.abs(startMs - (before + 30_000))).toBeLessThan(2000);
      expect(Number(io.unavailability.duration?.nanoseconds)).toBe(600e9);
    }
    // offers made after the schedule carry its unavailability (declining brings the agents back in the next cycle)
    const offered = f.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []) : []));
    await f.client.decline(offered.map((o) => o.id.value), { refuse_seconds: 0 });
    const withWindow = await eventually(() => {
      const later = f.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []) : [])).filter((o) => !offered.some((x) => x.id.value === o.id.value));
      return later.length >= 3 && later;
    }, 3000);
    expect(withWindow.filter((o) => o.unavailability).map((o) => o.agent_id.value).sort()).toEqual([agents[0].id, agents[1].id].sort());

    const on0 = ios.find((io) => io.agent_id?.value === agents[0].id)!;
    const on1 = ios.find((io) => io.agent_id?.value === agents[1].id)!;
    await f.client.acceptInverseOffers([on0.id.value], { refuse_seconds: 60 });
    await f.client.declineInverseOffers([on1.id.value], { refuse_seconds: 60 });
    const m = await get<EmulatorMaintenance>(emu.url, '/emulator/maintenance');
    expect(m.agents.map((a) => [a.id, a.accepted_by, a.declined_by])).toEqual([
      [agents[0].id, [fid], []],
      [agents[1].id, [], [fid]],
    ]);
    const status = await get<{ draining_machines: { id: { hostname: string }; statuses: { status: string; framework_id: { value: string } }[] }[] }>(emu.url, '/master/maintenance/status');
    expect(status.draining_machines.map((d) => [d.id.hostname, d.statuses.map((s) => s.status)])).toEqual([
      [agents[0].hostname, ['ACCEPT']],
      [agents[1].hostname, ['DECLINE']],
    ]);
  });

  it('the master\'s /maintenance/schedule: Mesos JSON in, 200; bad schedules are 400 with the reason; removing it rescinds outstanding inverse offers', async () => {
    const start = (Date.now() + 60_000) * 1e6;
    const schedule = { windows: [{ machine_ids: [{ hostname: 'agent-2', ip: '127.0.0.1' }], unavailability: { start: { nanoseconds: start }, duration: { nanoseconds: 3600e9 } } }] };
    expect((await post(emu.url, '/maintenance/schedule', schedule)).status).toBe(200);
    expect(await get(emu.url, '/maintenance/schedule')).toEqual(schedule);
    const [io] = await eventually(() => f.inverseOffers().length > 0 && f.inverseOffers(), 3000);
    expect(io.agent_id?.value).toBe([...emu.master.agents.values()][2].id);

    const bad = await post(emu.url, '/maintenance/schedule', { windows: [{ machine_ids: [], unavailability: { start: { nanoseconds: 1 } } }] });
    expect([bad.status, bad.body]).toEqual([400, 'List of machines in the maintenance window is empty']);
    const badJson = await post(emu.url, '/emulator/maintenance', '{nope');
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).error).toMatch(/Failed to parse the schedule JSON/);

    expect((await post(emu.url, '/emulator/maintenance', undefined, 'DELETE')).status).toBe(200);
    await eventually(() => f.rescinded().includes(io.id.value), 3000);
    expect((await get<EmulatorMaintenance>(emu.url, '/emulator/maintenance')).schedule).toEqual({ windows: [] });
  });
});
