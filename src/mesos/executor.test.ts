import { describe, expect, it } from '@jest/globals';
import { ExecutorClient, executorOptionsFromEnv, ExecutorEnvError, formatStoutDuration, parseStoutDuration } from './executor.js';
import type { ExecutorTransport } from './executor-transport.js';
import type { ExecutorCall, ExecutorEvent } from './types.js';
import { BadRequestError, ConnectionError } from './errors.js';

describe('parseStoutDuration (Mesos/stout duration strings)', () => {
  it.each([
    ['15mins', 15 * 60_000],
    ['1secs', 1000],
    ['100ms', 100],
    ['2hrs', 7_200_000],
    ['1.5days', 36 * 3_600_000],
    ['1weeks', 7 * 24 * 3_600_000],
    ['250us', 0.25],
    ['1000000ns', 1],
    ['0.5secs', 500],
  ])('%s = %d ms', (input, ms) => {
    expect(parseStoutDuration(input)).toEqual({ ok: true, ms });
  });

  it.each(['', '15', '15m', '15s', '1h', 'mins', '1.2.3secs', '-1secs', '1ms1ns', ' 1secs', 'abc'])('rejects %j', (input) => {
    const r = parseStoutDuration(input);
    expect(r.ok).toBe(false);
  });

  it.each([0, 1, 100, 1000, 60_000, 90_000, 3_600_000, 86_400_000, 1.5])('format then parse round-trips %d ms', (ms) => {
    expect(parseStoutDuration(formatStoutDuration(ms))).toEqual({ ok: true, ms });
  });

  it('formats like Mesos does', () => {
    expect(formatStoutDuration(15 * 60_000)).toBe('15mins');
    expect(formatStoutDuration(2000)).toBe('2secs');
    expect(formatStoutDuration(250)).toBe('250ms');
  });
});

const base = {
  MESOS_AGENT_ENDPOINT: '10.0.0.7:5051',
  MESOS_FRAMEWORK_ID: 'fw-1',
  MESOS_EXECUTOR_ID: 'kubelet-a1',
  MESOS_DIRECTORY: '/var/lib/mesos/slaves/a1/frameworks/fw-1/executors/kubelet-a1/runs/r1',
  MESOS_SANDBOX: '/mnt/mesos/sandbox',
};

describe('executorOptionsFromEnv', () => {
  it('reads what a real agent sets, checkpointing on', () => {
    const o = executorOptionsFromEnv({
      ...base,
      MESOS_CHECKPOINT: '1',
      MESOS_RECOVERY_TIMEOUT: '15mins',
      MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
      MESOS_HTTP_COMMAND_EXECUTOR: '0',
      MESOS_EXECUTOR_AUTHENTICATION_TOKEN: 'tok',
      MESOS_AGENT_PID: 'slave(1)@10.0.0.7:5051',
    });
    expect(o).toEqual({
      agentEndpoint: 'http://10.0.0.7:5051',
      frameworkId: 'fw-1',
      executorId: 'kubelet-a1',
      directory: base.MESOS_DIRECTORY,
      sandbox: '/mnt/mesos/sandbox',
      checkpoint: true,
      recoveryTimeoutMs: 900_000,
      subscriptionBackoffMaxMs: 2000,
      shutdownGracePeriodMs: 5000,
      httpCommandExecutor: false,
      authToken: 'tok',
      agentPid: 'slave(1)@10.0.0.7:5051',
    });
  });

  it('defaults: no checkpointing, sandbox = directory, Mesos default timeouts', () => {
    const { MESOS_SANDBOX: _s, ...env } = base;
    const o = executorOptionsFromEnv(env);
    expect(o.checkpoint).toBe(false);
    expect(o.sandbox).toBe(base.MESOS_DIRECTORY);
    expect(o.recoveryTimeoutMs).toBe(15 * 60_000);
    expect(o.subscriptionBackoffMaxMs).toBe(2000);
    expect(o.shutdownGracePeriodMs).toBe(5000);
    expect(o.authToken).toBeUndefined();
  });

  it.each([
    [{ LIBPROCESS_SSL_ENABLED: '1' }, 'https://10.0.0.7:5051'],
    [{ MESOS_AGENT_ENDPOINT: 'http://agent:5051' }, 'http://agent:5051'],
    [{ MESOS_AGENT_ENDPOINT: '[::1]:5051' }, 'http://[::1]:5051'],
  ])('agent endpoint %j -> %s', (extra, url) => {
    expect(executorOptionsFromEnv({ ...base, ...extra }).agentEndpoint).toBe(url);
  });

  it.each([
    [{ MESOS_AGENT_ENDPOINT: undefined }, 'MESOS_AGENT_ENDPOINT'],
    [{ MESOS_FRAMEWORK_ID: '' }, 'MESOS_FRAMEWORK_ID'],
    [{ MESOS_EXECUTOR_ID: undefined }, 'MESOS_EXECUTOR_ID'],
    [{ MESOS_AGENT_ENDPOINT: 'no-port' }, 'MESOS_AGENT_ENDPOINT'],
    [{ MESOS_CHECKPOINT: 'maybe' }, 'MESOS_CHECKPOINT'],
    [{ MESOS_CHECKPOINT: '1', MESOS_RECOVERY_TIMEOUT: '15m' }, 'MESOS_RECOVERY_TIMEOUT'],
    [{ MESOS_CHECKPOINT: '1', MESOS_SUBSCRIPTION_BACKOFF_MAX: 'soon' }, 'MESOS_SUBSCRIPTION_BACKOFF_MAX'],
    [{ MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5' }, 'MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD'],
    [{ MESOS_HTTP_COMMAND_EXECUTOR: 'yes please' }, 'MESOS_HTTP_COMMAND_EXECUTOR'],
  ])('%j is a clear error naming %s', (extra, variable) => {
    let err: unknown;
    try {
      executorOptionsFromEnv({ ...base, ...extra });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ExecutorEnvError);
    expect((err as ExecutorEnvError).problems.map((p) => p.variable)).toContain(variable);
    expect((err as Error).message).toContain(variable);
  });

  it('reports every problem at once', () => {
    expect(() => executorOptionsFromEnv({})).toThrow(/MESOS_AGENT_ENDPOINT.*MESOS_FRAMEWORK_ID.*MESOS_EXECUTOR_ID/s);
  });
});

/** An in-memory transport: the seam the emulator's in-process mode uses. */
class FakeTransport implements ExecutorTransport {
  calls: ExecutorCall[] = [];
  fail: Error | undefined;
  emit: (ev: ExecutorEvent) => void = () => {};
  async subscribe(call: ExecutorCall, onEvent: (ev: ExecutorEvent) => void): Promise<void> {
    this.calls.push(call);
    this.emit = onEvent;
    queueMicrotask(() =>
      onEvent({
        type: 'SUBSCRIBED',
        subscribed: { executor_info: { executor_id: { value: 'e1' } }, framework_info: { user: 'u', name: 'n' }, agent_info: { hostname: 'h', id: { value: 'a1' } } },
      }),
    );
  }
  async call(call: ExecutorCall): Promise<void> {
    this.calls.push(call);
    if (this.fail) throw this.fail;
  }
  close(): void {}
}

describe('ExecutorClient over an injected transport', () => {
  const opts = { ...executorOptionsFromEnv(base), checkpoint: true };
  let n = 0;
  const uuid = (): Uint8Array => new Uint8Array(16).fill(++n);

  async function subscribedClient(t: FakeTransport): Promise<ExecutorClient> {
    const c = new ExecutorClient({ ...opts, transport: t, uuid });
    const ready = new Promise((r) => c.on('subscribed', r));
    c.start();
    await ready;
    return c;
  }

  it.each([
    ['a refusal (400) rejects and drops the update', new BadRequestError('bad status', 'x'), true],
    ['an in-process refusal with .status rejects and drops it', Object.assign(new Error('409: conflict'), { status: 409 }), true],
    ['a broken connection keeps it for the next SUBSCRIBE', new ConnectionError('reset'), false],
  ])('%s', async (_name, err, dropped) => {
    const t = new FakeTransport();
    const c = await subscribedClient(t);
    t.fail = err;
    const p = c.update({ task_id: { value: 'pod-1' }, state: 'TASK_RUNNING' });
    if (dropped) await expect(p).rejects.toBe(err);
    else await expect(p).resolves.toBeUndefined();
    expect(c.unacknowledgedUpdates).toHaveLength(dropped ? 0 : 1);
    await c.stop();
  });

  it('fills uuid, source, executor and agent ids; ACKNOWLEDGED with another uuid keeps the update', async () => {
    const t = new FakeTransport();
    const c = await subscribedClient(t);
    await c.update({ task_id: { value: 'pod-1' }, state: 'TASK_RUNNING', timestamp: 1234.5 });
    const up = t.calls[1];
    if (up.type !== 'UPDATE') throw new Error('expected UPDATE');
    expect(up.update.status).toMatchObject({ source: 'SOURCE_EXECUTOR', executor_id: { value: 'kubelet-a1' }, agent_id: { value: 'a1' }, timestamp: 1234.5 });
    t.emit({ type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 'pod-1' }, uuid: new Uint8Array(16).fill(99) } });
    expect(c.unacknowledgedUpdates).toHaveLength(1);
    t.emit({ type: 'ACKNOWLEDGED', acknowledged: { task_id: { value: 'pod-1' }, uuid: up.update.status.uuid! } });
    expect(c.unacknowledgedUpdates).toHaveLength(0);
    await c.stop();
    expect(c.state).toBe('stopped');
    await expect(c.update({ task_id: { value: 'pod-1' }, state: 'TASK_KILLED' })).rejects.toMatchObject({ kind: 'stopped' });
  });

  it.each([
    [{ frameworkId: '' }, /frameworkId/],
    [{ recoveryTimeoutMs: -1 }, /recoveryTimeoutMs/],
    [{ subscriptionBackoffMaxMs: 0 }, /subscriptionBackoffMaxMs/],
  ])('constructor rejects %j', (over, msg) => {
    expect(() => new ExecutorClient({ ...opts, ...over, transport: new FakeTransport() })).toThrow(msg);
  });
});
