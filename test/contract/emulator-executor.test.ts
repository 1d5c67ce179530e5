// The agent side of the emulator: process-mode executors get the environment slave.cpp executorEnvironment() sets,
// and /api/v1/executor behaves as executor-http-api.md and slave/http.cpp + validation.cpp describe.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { JSON_TYPE, PROTOBUF, encodeExecutorCall, type ContentType } from '../../src/mesos/codec.js';
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { eventually, executorSubscribeRaw, isStream, rawRequest } from '../../src/emulator/testing.js';
import type { ExecutorCall, Offer, SchedulerEvent, TaskInfo, TaskStatus } from '../../src/emulator/proto-types.js';

// A minimal HTTP executor in plain JavaScript: records its environment, subscribes with JSON, answers LAUNCH with
// TASK_RUNNING, KILL with TASK_KILLED and exits; "crash" in the task name makes it exit with code 3 instead.
const EXECUTOR_JS = String.raw`
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');
const env = process.env;
fs.writeFileSync('env.json', JSON.stringify(env));
console.log('executor started');
const [host, port] = env.MESOS_AGENT_ENDPOINT.split(':');
const headers = { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN };
const ids = { framework_id: { value: env.MESOS_FRAMEWORK_ID }, executor_id: { value: env.MESOS_EXECUTOR_ID } };
function post(body, onRes) {
  const req = http.request({ host, port, path: '/api/v1/executor', method: 'POST', headers }, onRes || ((res) => res.resume()));
  req.end(JSON.stringify(body));
}
function update(task_id, state) {
  post({ ...ids, type: 'UPDATE', update: { status: { task_id, state, source: 'SOURCE_EXECUTOR', uuid: crypto.randomBytes(16).toString('base64') } } });
}
const seen = [];
post({ ...ids, type: 'SUBSCRIBE', subscribe: {} }, (res) => {
  let buf = Buffer.alloc(0);
  res.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      const nl = buf.indexOf(10);
      if (nl < 0) break;
      const len = Number(buf.subarray(0, nl).toString());
      if (buf.length < nl + 1 + len) break;
      const ev = JSON.parse(buf.subarray(nl + 1, nl + 1 + len).toString());
      buf = buf.subarray(nl + 1 + len);
      seen.push(ev);
      fs.writeFileSync('events.json', JSON.stringify(seen));
      if (ev.type === 'LAUNCH') {
        if (ev.launch.task.name.includes('crash')) process.exit(3);
        update(ev.launch.task.task_id, 'TASK_RUNNING');
      }
      if (ev.type === 'KILL') { update(ev.kill.task_id, 'TASK_KILLED'); setTimeout(() => process.exit(0), 200); }
      if (ev.type === 'SHUTDOWN') process.exit(0);
    }
  });
});
`;

class Sched {
  readonly events: SchedulerEvent[] = [];
  readonly client: SchedulerClient;
  constructor(url: string, checkpoint: boolean) {
    this.client = new SchedulerClient({ masters: [url], framework: { user: 'root', name: 'exec-contract', checkpoint, failover_timeout: 60 } });
    this.client.on('event', (ev) => {
      this.events.push(ev);
      if (ev.type === 'UPDATE' && ev.update.status.uuid) void this.client.acknowledge(ev.update.status).catch(() => undefined);
    });
    this.client.start();
  }
  offer(): Promise<Offer> {
    return eventually(() => this.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []) : []))[0]);
  }
  update(taskId: string, state: string): Promise<TaskStatus> {
    return eventually(
      () => this.events.map((e) => (e.type === 'UPDATE' ? e.update.status : undefined)).find((s) => s?.task_id.value === taskId && s.state === state),
      10_000,
    );
  }
  failure(executorId: string): Promise<Extract<SchedulerEvent, { type: 'FAILURE' }>> {
    return eventually(() => this.events.find((e): e is Extract<SchedulerEvent, { type: 'FAILURE' }> => e.type === 'FAILURE' && e.failure.executor_id?.value === executorId), 10_000);
  }
}

const taskFor = (o: Offer, id: string, command: TaskInfo['executor'] extends infer E ? E : never): TaskInfo => ({
  name: id,
  task_id: { value: id },
  agent_id: o.agent_id,
  resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 1 } }],
  executor: command,
});

describe('process executors (--executor-mode process)', () => {
  let emu: RunningEmulator;
  let dir: string;
  let sched: Sched;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'emu-exec-'));
    writeFileSync(join(dir, 'executor.cjs'), EXECUTOR_JS);
    emu = await startEmulator({
      listen: '127.0.0.1:0',
      agents: 1,
      allocationIntervalMs: 50,
      executorMode: 'process',
      workDir: join(dir, 'work'),
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    sched = new Sched(emu.url, true);
  });
  afterAll(async () => {
    await sched.client.stop();
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts the executor's command in its sandbox with the agent's environment (slave.cpp executorEnvironment) plus CommandInfo.environment", async () => {
    const o = await sched.offer();
    const executor = {
      executor_id: { value: 'proc-exec' },
      command: { value: `${process.execPath} ${join(dir, 'executor.cjs')}`, environment: { variables: [{ name: 'GREETING', value: 'hello' }] } },
    };
    await sched.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [taskFor(o, 'pt1', executor)] } }], { refuse_seconds: 0 });
    usedOffers.add(o.id.value);
    await sched.update('pt1', 'TASK_RUNNING');
    const st = JSON.parse((await rawRequest(emu.url, { method: 'GET', path: '/state' })).body) as { slaves: { executors: { id: string; directory: string }[] }[] };
    const sandbox = st.slaves[0].executors.find((e) => e.id === 'proc-exec')!.directory;
    const env = JSON.parse(readFileSync(join(sandbox, 'env.json'), 'utf8')) as Record<string, string>;
    expect(env).toMatchObject({
      MESOS_FRAMEWORK_ID: sched.client.frameworkId,
      MESOS_EXECUTOR_ID: 'proc-exec',
      MESOS_SLAVE_ID: o.agent_id.value,
      MESOS_AGENT_ENDPOINT: new URL(emu.url).host,
      MESOS_DIRECTORY: sandbox,
      MESOS_SANDBOX: sandbox,
      MESOS_CHECKPOINT: '1',
      MESOS_RECOVERY_TIMEOUT: '15mins',
      MESOS_SUBSCRIPTION_BACKOFF_MAX: '2secs',
      MESOS_HTTP_COMMAND_EXECUTOR: '0',
      MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD: '5secs',
      GREETING: 'hello',
    });
    expect(env.MESOS_SLAVE_PID).toMatch(/^slave\(1\)@127\.0\.0\.1:\d+$/);
    expect(readFileSync(join(sandbox, 'stdout'), 'utf8')).toContain('executor started');
    const events = JSON.parse(readFileSync(join(sandbox, 'events.json'), 'utf8')) as { type: string; subscribed?: Record<string, unknown> }[];
    expect(events[0].type).toBe('SUBSCRIBED');
    expect(events[0].subscribed).toMatchObject({ executor_info: { executor_id: { value: 'proc-exec' } }, framework_info: { name: 'exec-contract' }, agent_info: { hostname: 'agent-0' } });
    expect(events[1].type).toBe('LAUNCH');
    // KILL → the executor reports TASK_KILLED and exits 0 → FAILURE event with the exit status.
    await sched.client.kill('pt1', o.agent_id.value);
    await sched.update('pt1', 'TASK_KILLED');
    expect((await sched.failure('proc-exec')).failure).toMatchObject({ agent_id: o.agent_id, status: 0 });
  });

  it('an executor that exits with its task still running: TASK_FAILED from SOURCE_AGENT with REASON_EXECUTOR_TERMINATED, and FAILURE with the wait status', async () => {
    const o = await eventually(() => sched.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []) : [])).find((x) => x.resources?.some((r) => r.name === 'cpus' && (r.scalar?.value ?? 0) >= 1) && !usedOffers.has(x.id.value)));
    usedOffers.add(o.id.value);
    const executor = { executor_id: { value: 'crash-exec' }, command: { value: `${process.execPath} ${join(dir, 'executor.cjs')}` } };
    await sched.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [taskFor(o, 'crash-1', executor)] } }], { refuse_seconds: 0 });
    const failed = await sched.update('crash-1', 'TASK_FAILED');
    expect(failed).toMatchObject({ source: 'SOURCE_AGENT', reason: 'REASON_EXECUTOR_TERMINATED' });
    expect((await sched.failure('crash-exec')).failure.status).toBe(3 << 8);
  });

  it('command tasks run their shell command in the sandbox: exit 0 → TASK_FINISHED, exit 4 → TASK_FAILED, KILL → TASK_KILLED', async () => {
    const o = await eventually(() => sched.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []) : [])).find((x) => !usedOffers.has(x.id.value) && (x.resources?.find((r) => r.name === 'cpus')?.scalar?.value ?? 0) >= 3));
    usedOffers.add(o.id.value);
    const cmd = (id: string, value: string): TaskInfo => ({ ...taskFor(o, id, undefined), command: { value } });
    await sched.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [cmd('ok', 'echo hi > out.txt'), cmd('bad', 'exit 4'), cmd('long', 'sleep 30')] } }], { refuse_seconds: 0 });
    await sched.update('ok', 'TASK_FINISHED');
    expect((await sched.update('bad', 'TASK_FAILED')).message).toBe('Command exited with status 4');
    await sched.update('long', 'TASK_RUNNING');
    await sched.client.kill('long', o.agent_id.value);
    await sched.update('long', 'TASK_KILLED');
  });
});
const usedOffers = new Set<string>();

describe.each([
  ['protobuf', PROTOBUF],
  ['json', JSON_TYPE],
] as const)('executor API over HTTP (%s)', (_n, ct: ContentType) => {
  let emu: RunningEmulator;
  let sched: Sched;
  const envs: Record<string, string>[] = [];
  beforeAll(async () => {
    // The in-process executor only records its environment; the test speaks the executor API itself over HTTP.
    emu = await startEmulator({
      listen: '127.0.0.1:0',
      agents: 1,
      allocationIntervalMs: 50,
      executorMode: 'inprocess',
      executorFactory: async ({ env, signal }) => {
        envs.push(env);
        await new Promise<void>((r) => signal.addEventListener('abort', () => r()));
      },
    });
    sched = new Sched(emu.url, false);
  });
  afterAll(async () => {
    await sched.client.stop();
    await emu.stop();
  });

  it('SUBSCRIBE → 200 stream (no Mesos-Stream-Id) with SUBSCRIBED then LAUNCH; UPDATE is validated (uuid, source, TASK_STAGING) and answered 202 + ACKNOWLEDGED', async () => {
    const o = await sched.offer();
    const executor = { executor_id: { value: 'http-exec' }, command: { value: 'unused' } };
    await sched.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [taskFor(o, 'h1', executor)] } }]);
    const env = await eventually(() => envs[0]);
    const auth = { Authorization: `Bearer ${env.MESOS_EXECUTOR_AUTHENTICATION_TOKEN}` };
    const ids = { framework_id: { value: env.MESOS_FRAMEWORK_ID }, executor_id: { value: env.MESOS_EXECUTOR_ID } };
    const stream = await executorSubscribeRaw(emu.url, { ...ids, type: 'SUBSCRIBE', subscribe: {} }, ct, auth);
    if (!isStream(stream)) throw new Error(`SUBSCRIBE answered ${stream.status}: ${stream.body}`);
    try {
      expect(stream.headers['content-type']).toBe(ct);
      expect(stream.headers['mesos-stream-id']).toBeUndefined();
      const sub = await stream.next();
      expect(sub.type).toBe('SUBSCRIBED');
      if (sub.type === 'SUBSCRIBED') expect(sub.subscribed.agent_info.id?.value).toBe(o.agent_id.value);
      const launch = await stream.next();
      expect(launch.type === 'LAUNCH' && launch.launch.task.task_id.value).toBe('h1');
      const send = (status: Partial<TaskStatus>) =>
        rawRequest(emu.url, {
          path: '/api/v1/executor',
          headers: { 'Content-Type': ct, ...auth },
          body: encodeExecutorCall({ ...ids, type: 'UPDATE', update: { status: { task_id: { value: 'h1' }, state: 'TASK_RUNNING', ...status } as TaskStatus } } as ExecutorCall, ct),
        });
      const uuid = randomBytes(16);
      expect(await send({ source: 'SOURCE_EXECUTOR' })).toMatchObject({ status: 400, body: "Expecting 'uuid' to be present" });
      expect((await send({ source: 'SOURCE_AGENT', uuid })).status).toBe(400);
      expect((await send({ source: 'SOURCE_EXECUTOR', state: 'TASK_STAGING', uuid })).status).toBe(400);
      expect((await send({ source: 'SOURCE_EXECUTOR', uuid })).status).toBe(202);
      const ack = await stream.next((e) => e.type === 'ACKNOWLEDGED');
      if (ack.type === 'ACKNOWLEDGED') expect(Buffer.from(ack.acknowledged.uuid).equals(uuid)).toBe(true);
      const running = await sched.update('h1', 'TASK_RUNNING');
      expect(Buffer.from(running.uuid!).equals(uuid)).toBe(true);
      // Without the token the (framework, executor) pair still identifies the executor while it is unambiguous.
      const heartbeat = await rawRequest(emu.url, { path: '/api/v1/executor', headers: { 'Content-Type': ct }, body: encodeExecutorCall({ ...ids, type: 'HEARTBEAT' } as ExecutorCall, ct) });
      expect(heartbeat.status).toBe(202);
      // A retried update (same uuid) is acknowledged again but reaches the scheduler once.
      expect((await send({ source: 'SOURCE_EXECUTOR', uuid })).status).toBe(202);
    } finally {
      stream.close();
    }
    // "unacknowledged_updates" of a re-SUBSCRIBE are taken and acknowledged (executor-http-api.md).
    const finished = { task_id: { value: 'h1' }, state: 'TASK_FINISHED' as const, source: 'SOURCE_EXECUTOR' as const, uuid: randomBytes(16) };
    const again = await executorSubscribeRaw(emu.url, { ...ids, type: 'SUBSCRIBE', subscribe: { unacknowledged_updates: [{ status: finished }] } }, ct, auth);
    if (!isStream(again)) throw new Error(`re-SUBSCRIBE answered ${again.status}: ${again.body}`);
    try {
      expect((await again.next()).type).toBe('SUBSCRIBED');
      const ack = await again.next((e) => e.type === 'ACKNOWLEDGED');
      if (ack.type === 'ACKNOWLEDGED') expect(Buffer.from(ack.acknowledged.uuid).equals(finished.uuid)).toBe(true);
      await sched.update('h1', 'TASK_FINISHED');
      const runningUpdates = sched.events.filter((e) => e.type === 'UPDATE' && e.update.status.task_id.value === 'h1' && e.update.status.state === 'TASK_RUNNING');
      expect(runningUpdates).toHaveLength(1);
    } finally {
      again.close();
    }
    expect(existsSync(env.MESOS_DIRECTORY)).toBe(false); // in-process executors get a sandbox path but no directory
  });
});
