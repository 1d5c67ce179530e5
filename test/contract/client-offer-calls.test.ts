/**
 * Offer calls (ACCEPT, DECLINE, SUPPRESS, REVIVE) have connections of their own: a master slow to answer a burst of
 * ACKNOWLEDGEs must not hold a framework's DECLINE (and so its offers) behind them.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import { decodeSchedulerCall, encodeSchedulerEvent } from '../../src/mesos/codec.js';
import { SchedulerClient, type SubscribedInfo } from '../../src/mesos/scheduler.js';
import type { SchedulerCall } from '../../src/mesos/types.js';
import { seededRandom } from '../../src/time/backoff.js';
import { nextEvent, ScriptedServer } from './client-fixtures.js';
import { until } from '../support/until.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('SchedulerClient offer calls', () => {
  it('a DECLINE and a SUPPRESS reach the master while every shared connection waits on an unanswered ACKNOWLEDGE', async () => {
    const m = await ScriptedServer.start<SchedulerCall>({ decodeCall: decodeSchedulerCall });
    cleanups.push(() => m.close());
    const heldAcks: http.ServerResponse[] = [];
    m.handle = (ex) => {
      if (ex.call.type === 'SUBSCRIBE') {
        m.openStream(ex.res, 'application/x-protobuf', { 'Mesos-Stream-Id': 's1' });
        m.writeRecord(ex.res, encodeSchedulerEvent({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'fw-1' }, heartbeat_interval_seconds: 15 } }, 'application/x-protobuf'));
      } else if (ex.call.type === 'ACKNOWLEDGE') heldAcks.push(ex.res); // a busy master: no answer yet
      else ex.res.writeHead(202).end();
    };
    const c = new SchedulerClient({ framework: { user: 'root', name: 'kube-mesos', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] }, masters: [m.url], backoff: { initialMs: 10, maxMs: 200 }, random: seededRandom(1) });
    cleanups.push(() => c.stop());
    const subscribed = nextEvent<SubscribedInfo>((h) => c.on('subscribed', h));
    c.start();
    await subscribed;
    // Settled either way: the client stops (and drops what waits) at the end of the test.
    const acks = Array.from({ length: 40 }, (_, i) =>
      c.acknowledge({ task_id: { value: `t${i}` }, agent_id: { value: 'a1' }, state: 'TASK_RUNNING', uuid: new Uint8Array([i + 1]) }).catch(() => false),
    );
    // Every shared connection (16) is taken by an ACKNOWLEDGE the master has not answered; the rest wait for one.
    await until(() => heldAcks.length === 16, 'the master to hold 16 ACKNOWLEDGEs (one per shared connection)');
    await c.decline(['o1'], { refuse_seconds: 300 });
    await c.suppress();
    expect(m.count('DECLINE')).toBe(1);
    expect(m.count('SUPPRESS')).toBe(1);
    expect(heldAcks).toHaveLength(16);
    // Answered, the first ACKNOWLEDGEs free their connections for the ones that waited.
    for (const res of heldAcks) res.writeHead(202).end();
    await until(() => heldAcks.length > 16, 'an ACKNOWLEDGE that waited for a shared connection');
    for (const res of heldAcks.slice(16)) res.writeHead(202).end();
    await expect(acks[0]).resolves.toBe(true);
  });

  it('reports each call with its type, result and the time the master took to answer', async () => {
    const m = await ScriptedServer.start<SchedulerCall>({ decodeCall: decodeSchedulerCall });
    cleanups.push(() => m.close());
    let held: http.ServerResponse | undefined;
    m.handle = (ex) => {
      if (ex.call.type === 'SUBSCRIBE') {
        m.openStream(ex.res, 'application/x-protobuf', { 'Mesos-Stream-Id': 's1' });
        m.writeRecord(ex.res, encodeSchedulerEvent({ type: 'SUBSCRIBED', subscribed: { framework_id: { value: 'fw-1' }, heartbeat_interval_seconds: 15 } }, 'application/x-protobuf'));
      } else if (ex.call.type === 'ACCEPT') held = ex.res;
      else if (ex.call.type === 'KILL') ex.res.writeHead(400).end('Failed to validate scheduler::Call: bad');
      else ex.res.writeHead(202).end();
    };
    const seen: { type: string; seconds: number; ok: boolean }[] = [];
    const c = new SchedulerClient({
      framework: { user: 'root', name: 'kube-mesos', roles: ['*'], capabilities: [{ type: 'MULTI_ROLE' }] },
      masters: [m.url],
      backoff: { initialMs: 10, maxMs: 200 },
      random: seededRandom(1),
      onCall: (type, seconds, ok) => seen.push({ type, seconds, ok }),
    });
    cleanups.push(() => c.stop());
    const subscribed = nextEvent<SubscribedInfo>((h) => c.on('subscribed', h));
    c.start();
    await subscribed;
    await c.decline(['o1'], { refuse_seconds: 1 });
    await expect(c.kill('t1', 'a1')).rejects.toThrow();
    const accepted = c.accept(['o2'], []);
    await until(() => held !== undefined, 'the master to hold the ACCEPT');
    const heldAt = performance.now();
    await new Promise<void>((r) => setTimeout(r, 50)); // the master answers 50 ms late
    held!.writeHead(202).end();
    await accepted;
    const waited = (performance.now() - heldAt) / 1000;
    expect(seen.map(({ type, ok }) => [type, ok])).toEqual([['DECLINE', true], ['KILL', false], ['ACCEPT', true]]);
    expect(seen[2].seconds).toBeGreaterThanOrEqual(waited);
    expect(seen.every((s) => s.seconds >= 0 && s.seconds < 30)).toBe(true);
  });
});
