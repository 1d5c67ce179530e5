/**
 * ExecutorClient + HttpExecutorTransport against a scripted agent on 127.0.0.1: subscribe, LAUNCH, reliable
 * UPDATEs, agent restart with re-subscribe carrying what was not acknowledged, recovery timeout, SHUTDOWN.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ContentType } from '../../src/mesos/codec.js';
import { decodeExecutorCall, encodeExecutorEvent } from '../../src/mesos/codec.js';
import type { ExecutorCall, ExecutorEvent, TaskInfo } from '../../src/mesos/types.js';
import { ExecutorClient, executorOptionsFromEnv, type ExecutorClientOptions } from '../../src/mesos/executor.js';
import { HttpExecutorTransport } from '../../src/mesos/executor-transport.js';
import { ErrorEventError, NotSubscribedError } from '../../src/mesos/errors.js';
import { seededRandom } from '../../src/time/backoff.js';
import { FakeClock } from '../../src/time/fake-clock.js';
import { nextEvent, ScriptedServer, type Exchange } from './client-fixtures.js';

type Agent = ScriptedServer<ExecutorCall>;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function startAgent(): Promise<Agent> {
  const a = await ScriptedServer.start<ExecutorCall>({ decodeCall: decodeExecutorCall });
  cleanups.push(() => a.close());
  return a;
}

const accepted = (ex: Exchange<ExecutorCall>): ContentType => (ex.headers.accept as ContentType) ?? 'application/x-protobuf';

function sendEvent(a: Agent, ex: Exchange<ExecutorCall>, ev: ExecutorEvent): void {
  a.writeRecord(ex.res, encodeExecutorEvent(ev, accepted(ex)));
}

/** A well-behaved agent: SUBSCRIBE gets SUBSCRIBED, calls get 202; the open subscription is in `streams`. */
function behaving(a: Agent): Exchange<ExecutorCall>[] {
  const streams: Exchange<ExecutorCall>[] = [];
  a.handle = (ex) => {
    if (ex.call.type === 'SUBSCRIBE') {
      a.openStream(ex.res, accepted(ex));
      sendEvent(a, ex, {
        type: 'SUBSCRIBED',
        subscribed: {
          executor_info: { executor_id: { value: 'kubelet-a1' }, command: { value: 'kube-mesos executor' } },
          framework_info: { user: 'root', name: 'kube-mesos', id: { value: 'fw-1' } },
          agent_info: { hostname: '127.0.0.1', port: a.port, id: { value: 'agent-1' } },
        },
      });
      streams.push(ex);
    } else ex.res.writeHead(202).end();
  };
  return streams;
}

function options(a: Agent, over: Partial<ExecutorClientOptions> = {}): ExecutorClientOptions {
  return {
    ...executorOptionsFromEnv({
      MESOS_AGENT_ENDPOINT: `127.0.0.1:${a.port}`,
      MESOS_FRAMEWORK_ID: 'fw-1',
      MESOS_EXECUTOR_ID: 'kubelet-a1',
      MESOS_DIRECTORY: '/tmp/sandbox',
      MESOS_CHECKPOINT: '1',
      MESOS_RECOVERY_TIMEOUT: '5secs',
      MESOS_SUBSCRIPTION_BACKOFF_MAX: '50ms',
      MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'exec-token',
    }),
    ...over,
  };
}

function executor(opts: ExecutorClientOptions): ExecutorClient {
  const c = new ExecutorClient({ ...opts, random: seededRandom(3) });
  cleanups.push(() => c.stop());
  return c;
}

const task = (id: string): TaskInfo => ({
  name: id,
  task_id: { value: id },
  agent_id: { value: 'agent-1' },
  resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }],
});

const subscribed = (c: ExecutorClient): Promise<unknown> => nextEvent((h) => c.on('subscribed', h));
const eventOf = (c: ExecutorClient, type: ExecutorEvent['type']): Promise<ExecutorEvent> => nextEvent<ExecutorEvent>((h) => c.on('event', h), (ev) => ev.type === type);

describe.each<ContentType>(['application/x-protobuf', 'application/json'])('ExecutorClient over %s', (contentType) => {
  it('subscribes, tracks LAUNCHed tasks, sends reliable updates and forgets them once ACKNOWLEDGED', async () => {
    const a = await startAgent();
    const streams = behaving(a);
    const c = executor(options(a, { contentType }));
    c.start();
    await subscribed(c);
    expect(c.state).toBe('subscribed');
    const sub = a.requests[0];
    expect(sub.call).toMatchObject({ type: 'SUBSCRIBE', executor_id: { value: 'kubelet-a1' }, framework_id: { value: 'fw-1' } });
    expect(sub.headers.authorization).toBe('Bearer exec-token');
    expect(sub.contentType).toBe(contentType);

    sendEvent(a, streams[0], { type: 'LAUNCH', launch: { task: task('pod-1') } });
    await eventOf(c, 'LAUNCH');
    expect(c.unacknowledgedTasks.map((t) => t.task_id.value)).toEqual(['pod-1']);

    await c.update({ task_id: { value: 'pod-1' }, state: 'TASK_STARTING' });
    const up = a.requests[1].call;
    if (up.type !== 'UPDATE') throw new Error(`expected UPDATE, got ${up.type}`);
    expect(up.update.status).toMatchObject({
      task_id: { value: 'pod-1' },
      state: 'TASK_STARTING',
      source: 'SOURCE_EXECUTOR',
      executor_id: { value: 'kubelet-a1' },
      agent_id: { value: 'agent-1' },
    });
    expect(up.update.status.uuid).toHaveLength(16);
    expect(typeof up.update.status.timestamp).toBe('number');
    expect(a.requests[1].remotePort).not.toBe(sub.remotePort);
    expect(c.unacknowledgedUpdates).toHaveLength(1);

    sendEvent(a, streams[0], { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 'pod-1' }, uuid: up.update.status.uuid! } });
    await eventOf(c, 'ACKNOWLEDGED');
    expect(c.unacknowledgedUpdates).toEqual([]);
    expect(c.unacknowledgedTasks).toEqual([]);

    await c.message(new Uint8Array([7]));
    const msg = a.requests[2].call;
    expect(msg.type === 'MESSAGE' && Array.from(msg.message.data)).toEqual([7]);
  });
});

describe('ExecutorClient', () => {
  it('after an agent restart re-subscribes carrying the unacknowledged update and task', async () => {
    const a = await startAgent();
    const streams = behaving(a);
    const c = executor(options(a));
    const reasons: Error[] = [];
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    await subscribed(c);
    sendEvent(a, streams[0], { type: 'LAUNCH', launch: { task: task('pod-1') } });
    sendEvent(a, streams[0], { type: 'LAUNCH', launch: { task: task('pod-2') } });
    await nextEvent<ExecutorEvent>((h) => c.on('event', h), () => c.unacknowledgedTasks.length === 2);
    await c.update({ task_id: { value: 'pod-1' }, state: 'TASK_RUNNING' });
    await c.update({ task_id: { value: 'pod-2' }, state: 'TASK_RUNNING' });
    const [u1, u2] = a.requests.slice(1).map((r) => (r.call.type === 'UPDATE' ? r.call.update.status.uuid! : new Uint8Array()));
    sendEvent(a, streams[0], { type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 'pod-2' }, uuid: u2 } });
    await eventOf(c, 'ACKNOWLEDGED');

    await a.close(); // the agent process dies…
    await nextEvent((h) => c.on('disconnected', h));
    expect(c.state).toBe('connecting');
    // …an update made while disconnected is kept for the re-subscription.
    await c.update({ task_id: { value: 'pod-1' }, state: 'TASK_FAILED', message: 'container exited' });
    await new Promise((r) => setTimeout(r, 120)); // a few refused SUBSCRIBEs
    const before = a.requests.length;
    await a.restart(); // …and comes back on the same port.
    await subscribed(c);

    const resub = a.requests[before].call;
    if (resub.type !== 'SUBSCRIBE') throw new Error(`expected SUBSCRIBE, got ${resub.type}`);
    expect(resub.subscribe.unacknowledged_tasks?.map((t) => t.task_id.value)).toEqual(['pod-1']);
    const ups = resub.subscribe.unacknowledged_updates ?? [];
    expect(ups.map((u) => [u.status.task_id.value, u.status.state])).toEqual([
      ['pod-1', 'TASK_RUNNING'],
      ['pod-1', 'TASK_FAILED'],
    ]);
    expect(Buffer.from(ups[0].status.uuid!).equals(Buffer.from(u1))).toBe(true);
    expect(reasons).toHaveLength(1);
    expect(a.requests.slice(before).filter((r) => r.call.type === 'UPDATE')).toEqual([]); // it went only with SUBSCRIBE
  });

  it('gives up after the recovery timeout and emits exit', async () => {
    const a = await startAgent();
    behaving(a);
    const c = executor(options(a, { recoveryTimeoutMs: 200, subscriptionBackoffMaxMs: 40 }));
    c.start();
    await subscribed(c);
    await a.close();
    const t0 = Date.now();
    const reason = await nextEvent<string>((h) => c.on('exit', h));
    const waited = Date.now() - t0;
    expect(reason).toMatch(/recovery timeout/);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(1500);
    expect(c.state).toBe('stopped');
  });

  it('without checkpointing exits at once on disconnection', async () => {
    const a = await startAgent();
    const streams = behaving(a);
    const clock = new FakeClock();
    const c = new ExecutorClient({ ...options(a, { checkpoint: false }), random: seededRandom(3), clock });
    cleanups.push(() => c.stop());
    c.start();
    await subscribed(c);
    streams[0].res.destroy();
    const reason = await nextEvent<string>((h) => c.on('exit', h), undefined, 1000);
    expect(reason).toMatch(/checkpointing off/);
    expect(c.state).toBe('stopped');
    expect(clock.pending).toBe(0); // no re-subscribe wait armed: it cannot subscribe again
    expect(a.count('SUBSCRIBE')).toBe(1);
  });

  it('emits exit after SHUTDOWN (and the event first)', async () => {
    const a = await startAgent();
    const streams = behaving(a);
    const c = executor(options(a));
    const seen: string[] = [];
    c.on('event', (ev) => seen.push(ev.type));
    c.on('exit', () => seen.push('exit'));
    c.start();
    await subscribed(c);
    sendEvent(a, streams[0], { type: 'SHUTDOWN' });
    await nextEvent((h) => c.on('exit', h));
    expect(seen).toEqual(['SUBSCRIBED', 'SHUTDOWN', 'exit']);
  });

  it('on an ERROR event drops the subscription and subscribes again', async () => {
    const a = await startAgent();
    const streams = behaving(a);
    const c = executor(options(a));
    const reasons: Error[] = [];
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    await subscribed(c);
    const again = subscribed(c);
    sendEvent(a, streams[0], { type: 'ERROR', error: { message: 'Unrecoverable error' } });
    await again;
    expect(a.count('SUBSCRIBE')).toBe(2);
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toBeInstanceOf(ErrorEventError);
    expect((reasons[0] as ErrorEventError).mesosMessage).toBe('Unrecoverable error');
    await c.update({ task_id: { value: 'pod-1' }, state: 'TASK_RUNNING' }); // calls still work after the re-subscribe
    expect(a.count('UPDATE')).toBe(1);
  });

  it('treats a garbage frame as a broken stream and re-subscribes', async () => {
    const a = await startAgent();
    const streams = behaving(a);
    const c = executor(options(a));
    const reasons: Error[] = [];
    c.on('disconnected', (e) => reasons.push(e));
    c.start();
    await subscribed(c);
    streams[0].res.write('99999999999999999999999\n');
    await subscribed(c);
    expect(reasons).toHaveLength(1);
    expect(reasons[0].name).toBe('ProtocolError');
  });

  it('refuses MESSAGE before subscribing; keeps an update made before subscribing for SUBSCRIBE', async () => {
    const a = await startAgent();
    a.handle = () => {}; // SUBSCRIBE hangs
    const c = executor(options(a));
    await expect(c.message(new Uint8Array([1]))).rejects.toBeInstanceOf(NotSubscribedError);
    await c.update({ task_id: { value: 'pod-9' }, state: 'TASK_STAGING' });
    expect(c.unacknowledgedUpdates.map((s) => s.task_id.value)).toEqual(['pod-9']);
    c.start();
    await a.waitFor((r) => r.length === 1);
    const sub = a.requests[0].call;
    expect(sub.type === 'SUBSCRIBE' && sub.subscribe.unacknowledged_updates?.[0].status.task_id.value).toBe('pod-9');
  });

  it('HttpExecutorTransport rejects a refused SUBSCRIBE with a typed error', async () => {
    const a = await startAgent();
    a.handle = (ex) => ex.res.writeHead(401).end('bad token');
    const t = new HttpExecutorTransport({ endpoint: a.url, token: 'nope' });
    cleanups.push(async () => t.close());
    const call: ExecutorCall = { type: 'SUBSCRIBE', executor_id: { value: 'e' }, framework_id: { value: 'f' }, subscribe: {} };
    await expect(t.subscribe(call, () => {}, () => {})).rejects.toMatchObject({ status: 401, body: 'bad token', kind: 'unauthorized' });
  });
});
