/**
 * SchedulerClient against scripted masters on 127.0.0.1: subscription, stream id, redirects, 503, typed errors,
 * heartbeats, reconnects, ERROR events, master lists, basic auth, https with a CA bundle, bad frames.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ContentType } from '../../src/mesos/codec.js';
import { decodeSchedulerCall, encodeSchedulerEvent } from '../../src/mesos/codec.js';
import type { SchedulerCall, SchedulerEvent, TaskStatus } from '../../src/mesos/types.js';
import { SchedulerClient, type SchedulerClientOptions, type SubscribedInfo } from '../../src/mesos/scheduler.js';
import {
  BadRequestError,
  ConnectionError,
  ErrorEventError,
  ForbiddenError,
  HeartbeatTimeoutError,
  MesosClientError,
  NotAcceptableError,
  NotSubscribedError,
  ProtocolError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../src/mesos/errors.js';
import { seededRandom } from '../../src/time/backoff.js';
import { FakeClock } from '../../src/time/fake-clock.js';
import { closedPort, nextEvent, ScriptedServer, selfSignedCert, type Exchange } from './client-fixtures.js';
import { until } from '../support/until.js';

type Master = ScriptedServer<SchedulerCall>;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startMaster(tls?: { key: string; cert: string }): Promise<Master> {
  const m = await ScriptedServer.start<SchedulerCall>({ decodeCall: decodeSchedulerCall, tls });
  cleanups.push(() => m.close());
  return m;
}

function client(opts: Partial<SchedulerClientOptions> & { masters: string[] }): SchedulerClient {
  const c = new SchedulerClient({
    framework: { user: 'root', name: 'kube-mesos', failover_timeout: 604800, roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] },
    backoff: { initialMs: 10, maxMs: 200 },
    random: seededRandom(1),
    ...opts,
  });
  cleanups.push(() => c.stop());
  return c;
}

const accepted = (ex: Exchange<SchedulerCall>): ContentType => (ex.headers.accept as ContentType) ?? 'application/x-protobuf';

function sendEvent(m: Master, ex: Exchange<SchedulerCall>, ev: SchedulerEvent): void {
  m.writeRecord(ex.res, encodeSchedulerEvent(ev, accepted(ex)));
}

/** Accepts SUBSCRIBE like a leading master (stream id, SUBSCRIBED first) and returns the exchange. */
function acceptSubscribe(m: Master, ex: Exchange<SchedulerCall>, o: { frameworkId?: string; heartbeat?: number; streamId?: string } = {}): void {
  m.openStream(ex.res, accepted(ex), { 'Mesos-Stream-Id': o.streamId ?? `stream-${m.count('SUBSCRIBE')}` });
  const fwid = (ex.call.type === 'SUBSCRIBE' && ex.call.subscribe.framework_info.id?.value) || o.frameworkId || 'fw-0001';
  sendEvent(m, ex, {
    type: 'SUBSCRIBED',
    subscribed: { framework_id: { value: fwid }, heartbeat_interval_seconds: o.heartbeat ?? 15, master_info: { id: 'm1', ip: 0x0100007f, port: m.port, hostname: '127.0.0.1' } },
  });
}

/** A well-behaved leading master: SUBSCRIBE accepted, every other call 202; remembers the streams. */
function leading(m: Master, o: { frameworkId?: string; heartbeat?: number } = {}): Exchange<SchedulerCall>[] {
  const streams: Exchange<SchedulerCall>[] = [];
  m.handle = (ex) => {
    if (ex.call.type === 'SUBSCRIBE') {
      acceptSubscribe(m, ex, o);
      streams.push(ex);
    } else ex.res.writeHead(202).end();
  };
  return streams;
}

const subscribed = (c: SchedulerClient, timeoutMs?: number): Promise<SubscribedInfo> => nextEvent<SubscribedInfo>((h) => c.on('subscribed', h), undefined, timeoutMs);

describe.each<ContentType>(['application/x-protobuf', 'application/json'])('SchedulerClient over %s', (contentType) => {
  it('subscribes, surfaces typed events, and sends calls with the stream id on a separate connection', async () => {
    const m = await startMaster();
    const streams = leading(m, { frameworkId: 'fw-42' });
    const c = client({ masters: [m.url], contentType });
    const events: SchedulerEvent[] = [];
    c.on('event', (ev) => events.push(ev));
    expect(c.state).toBe('idle');
    c.start();
    const info = await subscribed(c);

    expect(info.frameworkId).toBe('fw-42');
    expect(info.heartbeatIntervalSeconds).toBe(15);
    expect(info.masterInfo?.hostname).toBe('127.0.0.1');
    expect(c.state).toBe('subscribed');
    expect(c.frameworkId).toBe('fw-42');
    expect(c.streamId).toBe('stream-1');
    const sub = m.requests[0];
    expect(sub.call.type).toBe('SUBSCRIBE');
    expect(sub.contentType).toBe(contentType);
    expect(sub.headers.accept).toBe(contentType);
    expect(sub.headers['mesos-stream-id']).toBeUndefined();
    expect(sub.call.type === 'SUBSCRIBE' && sub.call.subscribe.framework_info.name).toBe('kube-mesos');

    sendEvent(m, streams[0], { type: 'HEARTBEAT' });
    sendEvent(m, streams[0], {
      type: 'OFFERS',
      offers: { offers: [{ id: { value: 'o1' }, framework_id: { value: 'fw-42' }, agent_id: { value: 'a1' }, hostname: 'h1', resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 4 } }] }] },
    });
    await nextEvent<SchedulerEvent>((h) => c.on('event', h), (ev) => ev.type === 'OFFERS');
    expect(events.map((e) => e.type)).toEqual(['SUBSCRIBED', 'HEARTBEAT', 'OFFERS']);
    const offers = events[2];
    expect(offers.type === 'OFFERS' && offers.offers.offers?.[0].resources?.[0].scalar?.value).toBe(4);

    await c.decline(['o1'], { refuse_seconds: 30 });
    const dec = m.requests[1];
    expect(dec.call).toMatchObject({ type: 'DECLINE', framework_id: { value: 'fw-42' }, decline: { offer_ids: [{ value: 'o1' }], filters: { refuse_seconds: 30 } } });
    expect(dec.headers['mesos-stream-id']).toBe('stream-1');
    expect(dec.remotePort).not.toBe(sub.remotePort);

    await c.revive();
    await c.suppress(['prod']);
    await c.kill('t1', 'a1');
    await c.reconcile([{ taskId: 't1', agentId: 'a1' }]);
    await c.shutdown('e1', 'a1');
    await c.message('a1', 'e1', new Uint8Array([1, 2, 3]));
    await c.acceptInverseOffers(['i1']);
    await c.declineInverseOffers(['i2'], { refuse_seconds: 5 });
    await c.accept(['o1'], [{ type: 'LAUNCH', launch: { task_infos: [] } }]);
    const calls = m.requests.slice(2).map((r) => r.call);
    expect(calls.map((x) => x.type)).toEqual(['REVIVE', 'SUPPRESS', 'KILL', 'RECONCILE', 'SHUTDOWN', 'MESSAGE', 'ACCEPT_INVERSE_OFFERS', 'DECLINE_INVERSE_OFFERS', 'ACCEPT']);
    expect(calls[1]).toMatchObject({ suppress: { roles: ['prod'] } });
    expect(calls[2]).toMatchObject({ kill: { task_id: { value: 't1' }, agent_id: { value: 'a1' } } });
    expect(calls[3]).toMatchObject({ reconcile: { tasks: [{ task_id: { value: 't1' }, agent_id: { value: 'a1' } }] } });
    const msg = calls[5];
    expect(msg.type === 'MESSAGE' && Array.from(msg.message.data)).toEqual([1, 2, 3]);
    for (const r of m.requests.slice(1)) {
      expect(r.headers['mesos-stream-id']).toBe('stream-1');
      expect(r.call.framework_id?.value).toBe('fw-42');
    }
    // Calls reuse their keep-alive connection, which is never the subscription's.
    expect(new Set(m.requests.slice(1).map((r) => r.remotePort)).has(sub.remotePort)).toBe(false);
  });
});

describe('SchedulerClient', () => {
  it('refuses calls until SUBSCRIBED', async () => {
    const m = await startMaster();
    m.handle = () => {}; // never answers SUBSCRIBE
    const c = client({ masters: [m.url] });
    await expect(c.decline(['o1'])).rejects.toBeInstanceOf(NotSubscribedError);
    c.start();
    await m.waitFor((r) => r.length === 1);
    await expect(c.revive()).rejects.toBeInstanceOf(NotSubscribedError);
    expect(m.requests).toHaveLength(1);
  });

  it('acknowledges only updates that carry a uuid', async () => {
    const m = await startMaster();
    leading(m);
    const c = client({ masters: [m.url] });
    c.start();
    await subscribed(c);
    const noUuid: TaskStatus = { task_id: { value: 't1' }, state: 'TASK_RUNNING', agent_id: { value: 'a1' }, source: 'SOURCE_MASTER' };
    await expect(c.acknowledge(noUuid)).resolves.toBe(false);
    await expect(c.acknowledge({ ...noUuid, uuid: new Uint8Array(0) })).resolves.toBe(false);
    const uuid = new Uint8Array(16).map((_, i) => i + 1);
    await expect(c.acknowledge({ ...noUuid, uuid })).resolves.toBe(true);
    expect(m.requests.map((r) => r.call.type)).toEqual(['SUBSCRIBE', 'ACKNOWLEDGE']);
    const ack = m.requests[1].call;
    expect(ack.type === 'ACKNOWLEDGE' && ack.acknowledge.task_id.value).toBe('t1');
    expect(ack.type === 'ACKNOWLEDGE' && ack.acknowledge.agent_id.value).toBe('a1');
    expect(ack.type === 'ACKNOWLEDGE' && Array.from(ack.acknowledge.uuid)).toEqual(Array.from(uuid));
  });

  it.each([
    ['protocol-relative', (port: number) => `//127.0.0.1:${port}`],
    ['protocol-relative with path', (port: number) => `//127.0.0.1:${port}/api/v1/scheduler`],
    ['absolute', (port: number) => `http://127.0.0.1:${port}/api/v1/scheduler`],
  ])('follows a %s 307 to the leader for SUBSCRIBE and for calls', async (_name, location) => {
    const follower = await startMaster();
    const leader = await startMaster();
    follower.handle = (ex) => ex.res.writeHead(307, { Location: location(leader.port) }).end();
    leading(leader);
    const c = client({ masters: [follower.url] });
    c.start();
    const info = await subscribed(c);
    expect(info.master).toBe(`${leader.url}/api/v1/scheduler`);
    expect(follower.count('SUBSCRIBE')).toBe(1);
    expect(leader.count('SUBSCRIBE')).toBe(1);

    // Leadership moves again: the old leader 307s calls to the follower, which now answers them.
    leader.handle = (ex) => ex.res.writeHead(307, { Location: location(follower.port) }).end();
    follower.handle = (ex) => ex.res.writeHead(202).end();
    await c.decline(['o1']);
    expect(follower.count('DECLINE')).toBe(1);
    expect(follower.requests.find((r) => r.call.type === 'DECLINE')?.headers['mesos-stream-id']).toBe('stream-1');
  });

  it('a call caught in a redirect loop rejects with a typed too-many-redirects error after maxRedirects', async () => {
    const a = await startMaster();
    const b = await startMaster();
    a.handle = (ex) => (ex.call.type === 'SUBSCRIBE' ? acceptSubscribe(a, ex) : ex.res.writeHead(307, { Location: `//127.0.0.1:${b.port}` }).end());
    b.handle = (ex) => ex.res.writeHead(307, { Location: `//127.0.0.1:${a.port}` }).end();
    const c = client({ masters: [a.url], maxRedirects: 3 });
    c.start();
    await subscribed(c);
    const err = await c.decline(['o1']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MesosClientError);
    expect((err as MesosClientError).kind).toBe('too-many-redirects');
    expect(a.count('DECLINE') + b.count('DECLINE')).toBe(4); // the first try and 3 redirects followed
  });

  it('SUBSCRIBE caught in a redirect loop follows maxRedirects, then waits its backoff on the clock before the next round', async () => {
    const a = await startMaster();
    const b = await startMaster();
    a.handle = (ex) => ex.res.writeHead(307, { Location: `//127.0.0.1:${b.port}` }).end();
    b.handle = (ex) => ex.res.writeHead(307, { Location: `//127.0.0.1:${a.port}` }).end();
    const clock = new FakeClock();
    const c = client({ masters: [a.url], maxRedirects: 3, backoff: { initialMs: 100, maxMs: 100 }, clock });
    const subscribes = () => a.count('SUBSCRIBE') + b.count('SUBSCRIBE');
    c.start();
    await until(() => clock.pending === 1, 'the backoff wait after the first round');
    expect(subscribes()).toBe(4); // one round: the first try and 3 redirects followed; no more while the clock stands
    expect(c.state).toBe('connecting');
    expect(clock.advanceToNext()).toBeGreaterThanOrEqual(50); // the wait: equal jitter within [50, 100] ms
    await until(() => subscribes() === 8 && clock.pending === 1, 'the second round and its wait');
    await c.stop();
  });

  it('retries SUBSCRIBE after 503 with backoff, then subscribes', async () => {
    const m = await startMaster();
    const clock = new FakeClock();
    const times: number[] = [];
    m.handle = (ex) => {
      times.push(clock.now());
      if (m.count('SUBSCRIBE') <= 3) ex.res.writeHead(503).end('Master has not finished recovery');
      else acceptSubscribe(m, ex);
    };
    const c = client({ masters: [m.url], backoff: { initialMs: 20, maxMs: 1000 }, clock });
    const reasons: Error[] = [];
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    for (let k = 1; k <= 3; k++) {
      await until(() => reasons.length === k && clock.pending === 1, `backoff wait ${k}`);
      clock.advanceToNext();
    }
    await subscribed(c);
    expect(m.count('SUBSCRIBE')).toBe(4);
    expect(reasons).toHaveLength(3);
    expect(reasons.every((e) => e instanceof MesosClientError && e.kind === 'service-unavailable')).toBe(true);
    // Waits on the clock within [c/2, c] for c = initial, 2·initial, 4·initial.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(10);
    expect(times[1] - times[0]).toBeLessThanOrEqual(20);
    expect(times[3] - times[2]).toBeGreaterThanOrEqual(40);
    expect(times[3] - times[2]).toBeLessThanOrEqual(80);
  });

  it('retries a call on 503 and resolves on the 202 that follows', async () => {
    const m = await startMaster();
    let declines = 0;
    m.handle = (ex) => {
      if (ex.call.type === 'SUBSCRIBE') acceptSubscribe(m, ex);
      else if (++declines <= 2) ex.res.writeHead(503).end();
      else ex.res.writeHead(202).end();
    };
    const c = client({ masters: [m.url] });
    c.start();
    await subscribed(c);
    await c.decline(['o1']);
    expect(m.count('DECLINE')).toBe(3);
  });

  it.each([
    [400, BadRequestError, 'Framework id mismatch'],
    [401, UnauthorizedError, 'Unauthorized'],
    [403, ForbiddenError, 'Forbidden'],
    [406, NotAcceptableError, 'Unsupported Accept'],
    [415, UnsupportedMediaTypeError, 'Unsupported Content-Type'],
  ])('maps %d on a call to %p with status and body', async (status, cls, body) => {
    const m = await startMaster();
    m.handle = (ex) => {
      if (ex.call.type === 'SUBSCRIBE') acceptSubscribe(m, ex);
      else ex.res.writeHead(status).end(body);
    };
    const c = client({ masters: [m.url] });
    c.start();
    await subscribed(c);
    const err = await c.decline(['o1']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(cls);
    expect((err as { status: number }).status).toBe(status);
    expect((err as { body: string }).body).toBe(body);
  });

  it('reports a refused SUBSCRIBE (401) as a typed disconnect reason and keeps backing off', async () => {
    const m = await startMaster();
    m.handle = (ex) => ex.res.writeHead(401).end('Unauthorized');
    const c = client({ masters: [m.url] });
    c.start();
    const reason = await nextEvent<Error>((h) => c.on('disconnected', h));
    expect(reason).toBeInstanceOf(UnauthorizedError);
    expect(c.state).toBe('connecting');
  });

  it('treats a silent stream as dead after heartbeatMissLimit × interval and re-subscribes with the framework id', async () => {
    const m = await startMaster();
    const clock = new FakeClock();
    const t0: number[] = [];
    m.handle = (ex) => {
      t0.push(clock.now());
      if (ex.call.type === 'SUBSCRIBE') acceptSubscribe(m, ex, { heartbeat: 0.05, frameworkId: 'fw-hb' });
      else ex.res.writeHead(202).end();
    };
    const c = client({ masters: [m.url], heartbeatMissLimit: 2, clock });
    c.start();
    await subscribed(c);
    const disconnected = nextEvent<Error>((h) => c.on('disconnected', h));
    clock.advance(99);
    expect(clock.pending).toBe(1); // the watchdog still waits: 99 of 2 × 50 ms silent
    clock.advance(1);
    const reason = await disconnected;
    expect(reason).toBeInstanceOf(HeartbeatTimeoutError);
    expect(c.streamId).toBeUndefined();
    const resubscribed = subscribed(c);
    await until(() => clock.pending === 1, 'the reconnect wait');
    clock.advanceToNext();
    await resubscribed;
    expect(t0[1] - t0[0]).toBeGreaterThanOrEqual(100 + 5); // 2 × 50 ms of silence, then a backoff wait of ≥ 10/2 ms
    const again = m.requests[1].call;
    expect(again.type).toBe('SUBSCRIBE');
    expect(again.framework_id?.value).toBe('fw-hb');
    expect(again.type === 'SUBSCRIBE' && again.subscribe.framework_info.id?.value).toBe('fw-hb');
  });

  it('runs the heartbeat watchdog and the reconnect wait on the injected clock', async () => {
    const m = await startMaster();
    leading(m, { heartbeat: 15 });
    const clock = new FakeClock();
    const c = client({ masters: [m.url], clock, backoff: { initialMs: 1000, maxMs: 60_000 } });
    const reasons: Error[] = [];
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    await subscribed(c);
    clock.advance(74_999); // default limit 5 × 15 s
    expect(clock.pending).toBe(1); // the watchdog has not fired: it is still the one timer waiting
    expect(reasons).toEqual([]);
    clock.advance(1);
    await until(() => reasons.length > 0, 'disconnect', 2000);
    expect(reasons[0]).toBeInstanceOf(HeartbeatTimeoutError);
    expect((reasons[0] as HeartbeatTimeoutError).silentMs).toBe(75_000);
    // The reconnect waits on the fake clock too: nothing happens until it moves past the backoff.
    await until(() => clock.pending === 1, 'the reconnect wait');
    expect(m.count('SUBSCRIBE')).toBe(1);
    const again = subscribed(c);
    clock.advance(1000);
    await again;
    expect(m.count('SUBSCRIBE')).toBe(2);
  });

  it('keeps a stream alive while heartbeats arrive, and drops it once they stop', async () => {
    const m = await startMaster();
    const streams = leading(m, { heartbeat: 15 });
    const clock = new FakeClock();
    const c = client({ masters: [m.url], heartbeatMissLimit: 2, clock }); // dead after 30 s of silence
    const reasons: Error[] = [];
    let heartbeats = 0;
    c.on('disconnected', (e) => reasons.push(e));
    c.on('event', (ev) => ev.type === 'HEARTBEAT' && heartbeats++);
    c.start();
    await subscribed(c);
    for (let i = 1; i <= 8; i++) {
      clock.advance(20_000); // 160 s in all, each gap under the 30 s limit
      sendEvent(m, streams[0], { type: 'HEARTBEAT' });
      await until(() => heartbeats === i, `heartbeat ${i} received`);
    }
    expect(reasons).toEqual([]);
    expect(m.count('SUBSCRIBE')).toBe(1);
    clock.advance(30_000);
    await until(() => reasons.length === 1, 'the silent stream to be dropped');
    expect(reasons[0]).toBeInstanceOf(HeartbeatTimeoutError);
    await c.stop();
  });

  it('surfaces an ERROR event and does not hot-loop when the framework keeps failing over', async () => {
    const m = await startMaster();
    m.handle = (ex) => {
      acceptSubscribe(m, ex);
      sendEvent(m, ex, { type: 'ERROR', error: { message: 'Framework failed over' } });
      ex.res.end();
    };
    const clock = new FakeClock();
    const c = client({ masters: [m.url], backoff: { initialMs: 20, maxMs: 2000 }, clock });
    const errors: SchedulerEvent[] = [];
    const reasons: Error[] = [];
    const waits: number[] = [];
    c.on('event', (ev) => ev.type === 'ERROR' && errors.push(ev));
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    for (let k = 1; k <= 5; k++) {
      await until(() => reasons.length === k && clock.pending === 1, `the wait after failover ${k}`);
      waits.push(clock.advanceToNext()!);
    }
    // Every failover is followed by a wait on the clock that doubles (within [c/2, c], c = 20·2^k): never a hot loop.
    waits.forEach((w, k) => {
      expect(w).toBeGreaterThanOrEqual(10 * 2 ** k);
      expect(w).toBeLessThanOrEqual(20 * 2 ** k);
    });
    await until(() => m.count('SUBSCRIBE') === 6, 'the sixth SUBSCRIBE');
    expect(errors.length).toBeGreaterThanOrEqual(5);
    expect(errors[0].type === 'ERROR' && errors[0].error.message).toBe('Framework failed over');
    expect(reasons[0]).toBeInstanceOf(ErrorEventError);
  });

  it('a SUBSCRIBE refused with "Framework has been removed" (failover timeout passed): says so once and registers anew without the id', async () => {
    const m = await startMaster();
    m.handle = (ex) => {
      if (ex.call.type !== 'SUBSCRIBE') return void ex.res.writeHead(202).end();
      if (ex.call.subscribe.framework_info.id?.value === 'fw-old') {
        // master.cpp: the subscription stream carries one ERROR and closes
        m.openStream(ex.res, accepted(ex), { 'Mesos-Stream-Id': 'refused' });
        sendEvent(m, ex, { type: 'ERROR', error: { message: 'Framework has been removed' } });
        return void ex.res.end();
      }
      acceptSubscribe(m, ex, { frameworkId: 'fw-new' });
    };
    const c = new SchedulerClient({
      framework: { id: { value: 'fw-old' }, user: 'root', name: 'kube-mesos', failover_timeout: 604800, roles: ['*'] },
      masters: [m.url],
      backoff: { initialMs: 10, maxMs: 200 },
      random: seededRandom(1),
    });
    cleanups.push(() => c.stop());
    const removed: { frameworkId: string; message: string }[] = [];
    const reasons: Error[] = [];
    c.on('frameworkRemoved', (r) => removed.push(r));
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    const info = await subscribed(c);
    expect(info.frameworkId).toBe('fw-new');
    expect(removed).toEqual([{ frameworkId: 'fw-old', message: 'Framework has been removed' }]);
    expect(reasons.map((r) => r.constructor.name)).toEqual(['ErrorEventError']);
    expect(m.requests.filter((r) => r.call.type === 'SUBSCRIBE').map((r) => (r.call.type === 'SUBSCRIBE' ? r.call.subscribe.framework_info.id?.value : '?'))).toEqual(['fw-old', undefined]);
  });

  it('another ERROR on a refused SUBSCRIBE keeps the framework id', async () => {
    const m = await startMaster();
    m.handle = (ex) => {
      if (ex.call.type !== 'SUBSCRIBE') return void ex.res.writeHead(202).end();
      if (m.count('SUBSCRIBE') === 1) {
        m.openStream(ex.res, accepted(ex), { 'Mesos-Stream-Id': 'refused' });
        sendEvent(m, ex, { type: 'ERROR', error: { message: 'Framework is not authenticated' } });
        return void ex.res.end();
      }
      acceptSubscribe(m, ex);
    };
    const c = new SchedulerClient({ framework: { id: { value: 'fw-1' }, user: 'root', name: 'kube-mesos', roles: ['*'] }, masters: [m.url], backoff: { initialMs: 10, maxMs: 200 }, random: seededRandom(1) });
    cleanups.push(() => c.stop());
    const removed: unknown[] = [];
    c.on('frameworkRemoved', (r) => removed.push(r));
    c.start();
    expect((await subscribed(c)).frameworkId).toBe('fw-1');
    expect(removed).toEqual([]);
  });

  it('moves to the next master when one refuses connections', async () => {
    const dead = await closedPort();
    const m = await startMaster();
    leading(m);
    const c = client({ masters: [`http://127.0.0.1:${dead}`, m.url] });
    const reasons: Error[] = [];
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    const info = await subscribed(c);
    expect(info.master).toBe(`${m.url}/api/v1/scheduler`);
    expect(reasons[0]).toBeInstanceOf(ConnectionError);
    expect((reasons[0] as ConnectionError).code).toBe('ECONNREFUSED');
  });

  it('re-subscribes after the master drops the stream, and the next SUBSCRIBE carries the framework id', async () => {
    const m = await startMaster();
    const streams = leading(m, { frameworkId: 'fw-7' });
    const c = client({ masters: [m.url] });
    c.start();
    await subscribed(c);
    streams[0].res.destroy();
    const info = await subscribed(c);
    expect(info.frameworkId).toBe('fw-7');
    expect(c.streamId).toBe('stream-2');
    expect(m.requests[1].call.framework_id?.value).toBe('fw-7');
  });

  it('re-subscribes with the roles it suppressed, and with the framework info UPDATE_FRAMEWORK set', async () => {
    const m = await startMaster();
    const streams = leading(m, { frameworkId: 'fw-s' });
    const c = client({ masters: [m.url], framework: { user: 'root', name: 'kube-mesos', roles: ['a', 'b'], capabilities: [{ type: 'MULTI_ROLE' }] } });
    c.start();
    await subscribed(c);
    await c.suppress();
    await c.revive(['b']);
    expect(c.suppressedRoles).toEqual(['a']);
    await c.updateFramework({ user: 'root', name: 'kube-mesos', roles: ['a', 'b', 'c'], capabilities: [{ type: 'MULTI_ROLE' }] });
    const upd = m.requests.find((r) => r.call.type === 'UPDATE_FRAMEWORK')?.call;
    expect(upd?.type === 'UPDATE_FRAMEWORK' && upd.update_framework.framework_info.id?.value).toBe('fw-s');
    streams[0].res.destroy();
    await subscribed(c);
    const resub = m.requests.filter((r) => r.call.type === 'SUBSCRIBE')[1].call;
    if (resub.type !== 'SUBSCRIBE') throw new Error('expected SUBSCRIBE');
    expect(resub.subscribe.suppressed_roles).toEqual(['a']);
    expect(resub.subscribe.framework_info.roles).toEqual(['a', 'b', 'c']);
    expect(resub.subscribe.framework_info.id?.value).toBe('fw-s');
    await c.revive();
    expect(c.suppressedRoles).toEqual([]);
  });

  it('sends HTTP basic auth on SUBSCRIBE and on calls', async () => {
    const m = await startMaster();
    leading(m);
    const c = client({ masters: [m.url], credentials: { principal: 'kube-mesos', secret: 's3cret' } });
    c.start();
    await subscribed(c);
    await c.revive();
    const want = `Basic ${Buffer.from('kube-mesos:s3cret').toString('base64')}`;
    expect(m.requests.map((r) => r.headers.authorization)).toEqual([want, want]);
  });

  it('speaks https to a master whose certificate the CA bundle signs, and refuses one it does not', async () => {
    const { key, cert } = selfSignedCert();
    const m = await startMaster({ key, cert });
    leading(m);
    const untrusting = client({ masters: [m.url] });
    untrusting.start();
    const reason = await nextEvent<Error>((h) => untrusting.on('disconnected', h));
    expect(reason).toBeInstanceOf(ConnectionError);
    await untrusting.stop();

    const c = client({ masters: [m.url], ca: cert });
    c.start();
    const info = await subscribed(c);
    expect(info.master.startsWith('https://127.0.0.1:')).toBe(true);
    await c.revive();
    expect(m.count('REVIVE')).toBe(1);
  });

  it.each([
    ['RecordIO garbage', (m: Master, ex: Exchange<SchedulerCall>) => ex.res.write('12x\n{}')],
    ['an undecodable event', (m: Master, ex: Exchange<SchedulerCall>) => m.writeRecord(ex.res, new Uint8Array([0xff, 0xff, 0xff, 0xff]))],
  ])('treats %s as a broken stream and reconnects', async (_what, corrupt) => {
    const m = await startMaster();
    m.handle = (ex) => {
      acceptSubscribe(m, ex);
      if (m.count('SUBSCRIBE') === 1) corrupt(m, ex);
    };
    const c = client({ masters: [m.url], contentType: 'application/x-protobuf' });
    const reasons: Error[] = [];
    c.on('disconnected', (e) => reasons.push(e));
    // The corrupt bytes may share a chunk with SUBSCRIBED, so wait for the healthy second subscription.
    const second = nextEvent<SubscribedInfo>((h) => c.on('subscribed', h), () => m.count('SUBSCRIBE') === 2);
    c.start();
    await second;
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(ProtocolError);
    expect(c.state).toBe('subscribed');
  });

  it('stop() closes the stream and does not reconnect', async () => {
    const m = await startMaster();
    leading(m);
    const clock = new FakeClock();
    const c = client({ masters: [m.url], clock });
    c.start();
    await subscribed(c);
    await c.stop();
    expect(c.state).toBe('stopped');
    expect(clock.pending).toBe(0); // no watchdog and no reconnect wait left: nothing can subscribe again
    expect(m.count('SUBSCRIBE')).toBe(1);
    await until(() => m.openStreams.size === 0, 'the master to see the stream closed');
    await expect(c.revive()).rejects.toBeInstanceOf(NotSubscribedError);
  });

  it('teardown() sends TEARDOWN and stops', async () => {
    const m = await startMaster();
    leading(m);
    const c = client({ masters: [m.url] });
    c.start();
    await subscribed(c);
    await c.teardown();
    expect(m.requests.map((r) => r.call.type)).toEqual(['SUBSCRIBE', 'TEARDOWN']);
    expect(c.state).toBe('stopped');
  });
});

describe('SchedulerClient construction', () => {
  it.each([
    [{ masters: [] }, /masters/],
    [{ masters: ['ftp://m:5050'] }, /not an http/],
    [{ masters: ['http://m:5050'], heartbeatMissLimit: 0 }, /heartbeatMissLimit/],
    [{ masters: ['http://m:5050'], framework: { name: 'x' } as never }, /framework cannot be sent/],
  ])('rejects %j', (opts, msg) => {
    expect(() => new SchedulerClient({ framework: { user: 'root', name: 'kube-mesos' }, ...opts })).toThrow(msg);
  });
});
