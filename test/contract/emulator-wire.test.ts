// The emulator's scheduler endpoint at the wire level, raw requests, both encodings. Each test names the rule of
// Mesos' scheduler-http-api.md / master/http.cpp it checks.
import { JSON_TYPE, PROTOBUF, encodeSchedulerCall, type ContentType } from '../../src/mesos/codec.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { callRaw, isStream, rawRequest, subscribeRaw, type EventStream, eventually } from '../../src/emulator/testing.js';
import type { FrameworkInfo, SchedulerCall, SchedulerEvent } from '../../src/emulator/proto-types.js';

let emu: RunningEmulator;
const streams: EventStream<SchedulerEvent>[] = [];

beforeAll(async () => {
  emu = await startEmulator({ listen: '127.0.0.1:0', agents: 3, zones: ['a', 'b', 'c'], region: 'r1', agentAttributes: 'rack:r{i%4}', heartbeatIntervalMs: 300, allocationIntervalMs: 100 });
});
afterEach(() => {
  for (const s of streams.splice(0)) s.close();
});
afterAll(async () => {
  await emu.stop();
});

const fw = (extra: Partial<FrameworkInfo> = {}): FrameworkInfo => ({ user: 'root', name: 'wire-test', failover_timeout: 3600, ...extra });
const subscribeCall = (info = fw()): SchedulerCall => ({ type: 'SUBSCRIBE', subscribe: { framework_info: info }, ...(info.id ? { framework_id: info.id } : {}) });

async function subscribed(ct: ContentType, info = fw()): Promise<{ stream: EventStream<SchedulerEvent>; frameworkId: string; streamId: string }> {
  const r = await subscribeRaw(emu.url, subscribeCall(info), ct);
  if (!isStream(r)) throw new Error(`SUBSCRIBE answered ${r.status}: ${r.body}`);
  streams.push(r);
  const ev = await r.next((e) => e.type === 'SUBSCRIBED');
  if (ev.type !== 'SUBSCRIBED') throw new Error('unreachable');
  return { stream: r, frameworkId: ev.subscribed.framework_id.value, streamId: String(r.headers['mesos-stream-id']) };
}

describe.each([
  ['protobuf', PROTOBUF],
  ['json', JSON_TYPE],
] as const)('scheduler endpoint wire rules (%s)', (_name, ct) => {
  it('"This endpoint accepts HTTP POST requests": other methods get 405 with Allow: POST', async () => {
    const r = await rawRequest(emu.url, { method: 'GET', path: '/api/v1/scheduler' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST');
  });

  it("a request without Content-Type gets 400 \"Expecting 'Content-Type' to be present\"", async () => {
    const r = await rawRequest(emu.url, { path: '/api/v1/scheduler', body: encodeSchedulerCall(subscribeCall(), ct) });
    expect(r.status).toBe(400);
    expect(r.body).toBe("Expecting 'Content-Type' to be present");
  });

  it.each(['text/plain', `${ct}; charset=utf-8`, ct.toUpperCase()])('Content-Type is compared exactly: "%s" gets 415', async (type) => {
    const r = await rawRequest(emu.url, { path: '/api/v1/scheduler', headers: { 'Content-Type': type }, body: encodeSchedulerCall(subscribeCall(), ct) });
    expect(r.status).toBe(415);
    expect(r.body).toContain("Expecting 'Content-Type' of application/json or application/x-protobuf");
  });

  it('an undecodable body gets 400', async () => {
    const body = ct === JSON_TYPE ? '{"type": "SUBSCRIBE", ' : new Uint8Array([0xff, 0xff, 0xff, 0x01]);
    const r = await rawRequest(emu.url, { path: '/api/v1/scheduler', headers: { 'Content-Type': ct }, body });
    expect(r.status).toBe(400);
  });

  it('an invalid call (not SUBSCRIBE, no framework_id) gets 400 "Failed to validate scheduler::Call"', async () => {
    const r = await callRaw(emu.url, { type: 'REVIVE' }, ct, 'x');
    expect(r.status).toBe(400);
    expect(r.body).toContain("Failed to validate scheduler::Call: Expecting 'framework_id' to be present");
  });

  it("SUBSCRIBE whose framework_id differs from subscribe.framework_info.id gets 400", async () => {
    const r = await callRaw(emu.url, { type: 'SUBSCRIBE', framework_id: { value: 'a' }, subscribe: { framework_info: fw() } }, ct);
    expect(r.status).toBe(400);
    expect(r.body).toContain("'framework_id' differs from 'subscribe.framework_info.id'");
  });

  it("SUBSCRIBE with an Accept allowing neither encoding gets 406 \"Expecting 'Accept' to allow ...\"", async () => {
    const r = await subscribeRaw(emu.url, subscribeCall(), ct, { Accept: 'text/html, application/json;q=0' });
    expect(isStream(r)).toBe(false);
    expect((r as { status: number }).status).toBe(406);
  });

  it("SUBSCRIBE carrying Mesos-Stream-Id gets 400 \"Subscribe calls should not include the 'Mesos-Stream-Id' header\"", async () => {
    const r = await subscribeRaw(emu.url, subscribeCall(), ct, { 'Mesos-Stream-Id': 'abc' });
    expect(isStream(r)).toBe(false);
    expect(r).toMatchObject({ status: 400, body: "Subscribe calls should not include the 'Mesos-Stream-Id' header" });
  });

  it('SUBSCRIBE answers 200, chunked RecordIO in the Accept encoding, Mesos-Stream-Id; SUBSCRIBED with master_info, then HEARTBEAT at once and every interval', async () => {
    const r = await subscribeRaw(emu.url, subscribeCall(), ct);
    if (!isStream(r)) throw new Error(`status ${r.status}`);
    streams.push(r);
    expect(r.headers['content-type']).toBe(ct);
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.headers['mesos-stream-id']).toMatch(/^[0-9a-f-]{36}$/);
    const first = await r.next();
    expect(first.type).toBe('SUBSCRIBED');
    if (first.type !== 'SUBSCRIBED') return;
    expect(first.subscribed.heartbeat_interval_seconds).toBeCloseTo(0.3);
    expect(first.subscribed.master_info).toMatchObject({ port: Number(new URL(emu.leaderUrl).port), address: { ip: '127.0.0.1' } });
    expect((await r.next()).type).toBe('HEARTBEAT');
    const t0 = Date.now();
    await r.next((e) => e.type === 'HEARTBEAT', 2000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
  });

  it('an absent Accept header allows both encodings and JSON is chosen (master/http.cpp defaults to JSON)', async () => {
    const r = await subscribeRaw(emu.url, subscribeCall(), ct, { Accept: '' });
    if (!isStream(r)) throw new Error(`status ${r.status}`);
    streams.push(r);
    expect(r.headers['content-type']).toBe(JSON_TYPE);
  });

  it('calls without Mesos-Stream-Id, or with another stream id, get 400; accepted calls get 202', async () => {
    const { frameworkId, streamId } = await subscribed(ct);
    const revive: SchedulerCall = { type: 'REVIVE', framework_id: { value: frameworkId } };
    const missing = await callRaw(emu.url, revive, ct);
    expect(missing.status).toBe(400);
    expect(missing.body).toBe("All non-subscribe calls should include the 'Mesos-Stream-Id' header");
    const wrong = await callRaw(emu.url, revive, ct, 'not-the-stream');
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain("didn't match the stream ID currently associated with framework ID");
    expect((await callRaw(emu.url, revive, ct, streamId)).status).toBe(202);
  });

  it('a call for a framework that is known but not subscribed gets 403 "Framework is not subscribed"; an unknown framework 400', async () => {
    const { stream, frameworkId, streamId } = await subscribed(ct);
    stream.close();
    await eventually(async () => {
      const r = await callRaw(emu.url, { type: 'REVIVE', framework_id: { value: frameworkId } }, ct, streamId);
      return r.status === 403 && r.body === 'Framework is not subscribed';
    });
    const unknown = await callRaw(emu.url, { type: 'REVIVE', framework_id: { value: 'nobody' } }, ct, streamId);
    expect(unknown).toMatchObject({ status: 400, body: 'Framework cannot be found' });
  });

  it('a framework-level subscribe error is a 200 with one ERROR event, then the connection closes', async () => {
    const r = await subscribeRaw(emu.url, subscribeCall(fw({ roles: ['x'] })), ct);
    if (!isStream(r)) throw new Error(`status ${r.status}`);
    const ev = await r.next();
    expect(ev.type).toBe('ERROR');
    if (ev.type === 'ERROR') expect(ev.error.message).toContain("'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable");
    await r.closed();
    expect(r.events).toHaveLength(1);
  });

  it('OFFERS carry hostname, resources, attributes and domain.fault_domain region/zone', async () => {
    const { stream } = await subscribed(ct);
    const ev = await stream.next((e) => e.type === 'OFFERS');
    if (ev.type !== 'OFFERS') return;
    const offers = ev.offers.offers ?? [];
    expect(offers.length).toBeGreaterThan(0);
    for (const o of offers) {
      expect(o.hostname).toMatch(/^agent-\d+$/);
      const i = Number(o.hostname.slice(6));
      expect(o.domain?.fault_domain).toEqual({ region: { name: 'r1' }, zone: { name: ['a', 'b', 'c'][i % 3] } });
      expect(o.attributes).toEqual([{ name: 'rack', type: 'TEXT', text: { value: `r${i % 4}` } }]);
      expect(o.resources?.map((r) => r.name).sort()).toEqual(['cpus', 'disk', 'mem', 'ports']);
    }
  });
});

describe('other endpoints', () => {
  it('GET /state and /master/state return frameworks and agents with domain, resources, used_resources and attributes', async () => {
    for (const path of ['/state', '/master/state']) {
      const r = await rawRequest(emu.url, { method: 'GET', path });
      expect(r.status).toBe(200);
      const s = JSON.parse(r.body) as { slaves: Record<string, unknown>[]; frameworks: unknown[] };
      expect(s.slaves).toHaveLength(3);
      expect(s.slaves[0]).toMatchObject({
        hostname: 'agent-0',
        domain: { fault_domain: { region: { name: 'r1' }, zone: { name: 'a' } } },
        resources: { cpus: 8, mem: 16384, disk: 100000, ports: '[31000-32000]' },
        used_resources: {},
        attributes: { rack: 'r0' },
      });
      expect(Array.isArray(s.frameworks)).toBe(true);
    }
  });

  it('the executor endpoint follows the same rules: 405, 400 without Content-Type, 415, 400 for an unknown executor', async () => {
    expect((await rawRequest(emu.url, { method: 'GET', path: '/api/v1/executor' })).status).toBe(405);
    expect((await rawRequest(emu.url, { path: '/api/v1/executor', body: '{}' })).status).toBe(400);
    expect((await rawRequest(emu.url, { path: '/api/v1/executor', headers: { 'Content-Type': 'text/plain' }, body: '{}' })).status).toBe(415);
    const sub = await rawRequest(emu.url, {
      path: '/api/v1/executor',
      headers: { 'Content-Type': JSON_TYPE },
      body: JSON.stringify({ type: 'SUBSCRIBE', executor_id: { value: 'e' }, framework_id: { value: 'f' }, subscribe: {} }),
    });
    expect(sub).toMatchObject({ status: 400, body: 'Executor cannot be found' });
  });
});
