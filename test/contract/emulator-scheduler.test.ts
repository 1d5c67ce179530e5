// The emulator's behaviour as a framework sees it, driven with the project's SchedulerClient over real HTTP (both
// encodings) and in-process executors built on the project's ExecutorClient. Test names quote the documented rule.
import { JSON_TYPE, PROTOBUF, type ContentType } from '../../src/mesos/codec.js';
import { ExecutorClient, executorOptionsFromEnv } from '../../src/mesos/executor.js';
import { SchedulerClient } from '../../src/mesos/scheduler.js';
import { startEmulator, type ExecutorFactory, type RunningEmulator } from '../../src/emulator/index.js';
import { eventually, rawRequest } from '../../src/emulator/testing.js';
import type { FrameworkInfo, Offer, SchedulerEvent, TaskInfo, TaskStatus } from '../../src/emulator/proto-types.js';

/** A small test executor: LAUNCH → TASK_RUNNING, KILL → TASK_KILLED, exits on SHUTDOWN or when asked by MESSAGE. */
const testExecutor: ExecutorFactory = async ({ env, transport, signal }) => {
  const client = new ExecutorClient({ ...executorOptionsFromEnv(env), transport });
  await new Promise<void>((resolve) => {
    client.on('event', (ev) => {
      if (ev.type === 'LAUNCH') void client.update({ task_id: ev.launch.task.task_id, state: 'TASK_RUNNING' });
      if (ev.type === 'LAUNCH_GROUP') for (const t of ev.launch_group.task_group.tasks ?? []) void client.update({ task_id: t.task_id, state: 'TASK_RUNNING' });
      if (ev.type === 'KILL') void client.update({ task_id: ev.kill.task_id, state: 'TASK_KILLED' });
      if (ev.type === 'SHUTDOWN' || ev.type === 'MESSAGE') setTimeout(resolve, 50);
    });
    client.on('exit', () => resolve());
    signal.addEventListener('abort', () => resolve());
    client.start();
  });
  await client.stop();
};

class Framework {
  readonly events: SchedulerEvent[] = [];
  readonly client: SchedulerClient;
  private waiters: (() => void)[] = [];
  autoAck = true;
  constructor(url: string | string[], info: Partial<FrameworkInfo> = {}, ct: ContentType = PROTOBUF) {
    this.client = new SchedulerClient({
      masters: Array.isArray(url) ? url : [url],
      framework: { user: 'root', name: 'contract', failover_timeout: 3600, ...info },
      contentType: ct,
      backoff: { initialMs: 50, maxMs: 200 },
    });
    this.client.on('event', (ev) => {
      this.events.push(ev);
      if (ev.type === 'UPDATE' && this.autoAck && ev.update.status.uuid) void this.client.acknowledge(ev.update.status).catch(() => undefined);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  start(): this {
    this.client.start();
    return this;
  }
  async next<T extends SchedulerEvent['type']>(type: T, pred: (e: Extract<SchedulerEvent, { type: T }>) => boolean = () => true, timeoutMs = 5000, from = 0): Promise<Extract<SchedulerEvent, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find((e) => e.type === type && pred(e as Extract<SchedulerEvent, { type: T }>));
      if (hit) return hit as Extract<SchedulerEvent, { type: T }>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} within ${timeoutMs} ms; saw ${this.events.map((e) => e.type).join(',')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  async offer(pred: (o: Offer) => boolean = () => true): Promise<Offer> {
    const ev = await this.next('OFFERS', (e) => (e.offers.offers ?? []).some(pred));
    return ev.offers.offers!.find(pred)!;
  }
  update(taskId: string, state: string, from = 0): Promise<TaskStatus> {
    return this.next('UPDATE', (e) => e.update.status.task_id.value === taskId && e.update.status.state === state, 5000, from).then((e) => e.update.status);
  }
  async stop(): Promise<void> {
    await this.client.stop();
  }
}

const task = (id: string, o: Offer, extra: Partial<TaskInfo> = {}): TaskInfo => ({
  name: id,
  task_id: { value: id },
  agent_id: o.agent_id,
  resources: [
    { name: 'cpus', type: 'SCALAR', scalar: { value: 1 } },
    { name: 'mem', type: 'SCALAR', scalar: { value: 256 } },
  ],
  executor: { executor_id: { value: `exec-${o.agent_id.value}` }, command: { value: 'test-executor' }, resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } }] },
  ...extra,
});

async function state(url: string): Promise<{ frameworks: { id: string; active: boolean; tasks: { id: string; state: string }[] }[]; completed_frameworks: { id: string }[]; slaves: { id: string; used_resources: Record<string, unknown>; state: string }[] }> {
  return JSON.parse((await rawRequest(url, { method: 'GET', path: '/state' })).body);
}

const post = (url: string, path: string, body?: unknown) => rawRequest(url, { path, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

describe.each([
  ['protobuf', PROTOBUF],
  ['json', JSON_TYPE],
] as const)('emulator behaviour through SchedulerClient (%s)', (_n, ct) => {
  let emu: RunningEmulator;
  const fws: Framework[] = [];
  const fw = (info: Partial<FrameworkInfo> = {}, url?: string) => {
    const f = new Framework(url ?? emu.url, info, ct).start();
    fws.push(f);
    return f;
  };

  beforeEach(async () => {
    emu = await startEmulator({
      listen: '127.0.0.1:0',
      agents: 2,
      zones: ['a', 'b'],
      allocationIntervalMs: 50,
      heartbeatIntervalMs: 1000,
      agentUnreachableTimeoutMs: 200,
      statusUpdateRetryMs: 150,
      executorMode: 'inprocess',
      executorFactory: testExecutor,
      failoverRedirectMs: 2000,
    });
  });
  afterEach(async () => {
    for (const f of fws.splice(0)) await f.stop();
    await emu.stop();
  });

  it('LAUNCH: the executor gets the task, TASK_RUNNING carries a uuid and is acknowledged; task and executor resources are accounted on the agent; KILL → TASK_KILLED', async () => {
    const f = fw();
    const o = await f.offer();
    await f.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o)] } }]);
    const running = await f.update('t1', 'TASK_RUNNING');
    expect(running.uuid).toHaveLength(16);
    expect(running).toMatchObject({ source: 'SOURCE_EXECUTOR', agent_id: o.agent_id, executor_id: { value: `exec-${o.agent_id.value}` } });
    const s = await state(emu.url);
    expect(s.slaves.find((a) => a.id === o.agent_id.value)?.used_resources).toEqual({ cpus: 1.1, mem: 256 });
    expect(s.frameworks[0].tasks).toEqual([expect.objectContaining({ id: 't1', state: 'TASK_RUNNING' })]);
    await f.client.kill('t1', o.agent_id.value);
    await f.update('t1', 'TASK_KILLED');
  });

  it("/state lists a framework's executors as the real master does (frameworks[].executors: json(ExecutorInfo) + slave_id); command executors are not listed; a shut-down executor leaves the list", async () => {
    const f = fw();
    const o = await f.offer();
    const executor = {
      executor_id: { value: 'kubelet-exec' },
      name: 'Kubelet Executor',
      command: { value: 'test-executor --flag', uris: [{ value: 'http://fetch/exec.tgz', executable: false }] },
      resources: [
        { name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.25 } },
        { name: 'mem', type: 'SCALAR' as const, scalar: { value: 64 } },
      ],
    };
    const cmd = { ...task('c1', o), executor: undefined, command: { value: 'true' }, resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }] };
    await f.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o, { executor }), cmd] } }]);
    await f.update('t1', 'TASK_RUNNING');
    await f.update('c1', 'TASK_RUNNING');
    type ExecutorJson = Record<string, unknown>;
    const executors = async () => ((await state(emu.url)).frameworks[0] as unknown as { executors: ExecutorJson[] }).executors;
    expect(await executors()).toEqual([
      {
        executor_id: 'kubelet-exec',
        name: 'Kubelet Executor',
        framework_id: f.client.frameworkId,
        slave_id: o.agent_id.value,
        agent_id: o.agent_id.value,
        command: { value: 'test-executor --flag', argv: [], uris: [{ value: 'http://fetch/exec.tgz', executable: false }] },
        resources: { cpus: 0.25, mem: 64, gpus: 0, disk: 0 },
        role: '*',
      },
    ]);
    await f.client.shutdown('kubelet-exec', o.agent_id.value);
    await f.update('t1', 'TASK_KILLED');
    await eventually(async () => ((await executors()).length === 0 ? true : undefined));
  });

  it('LAUNCH_GROUP delivers the task group to one executor; SHUTDOWN ends the executor: its tasks get TASK_KILLED and the scheduler a FAILURE event', async () => {
    const f = fw();
    const o = await f.offer();
    const exec = { executor_id: { value: 'group-exec' }, type: 'DEFAULT' as const, resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }] };
    const tasks = ['g1', 'g2'].map((id) => ({ ...task(id, o), executor: undefined }));
    await f.client.accept([o.id.value], [{ type: 'LAUNCH_GROUP', launch_group: { executor: exec, task_group: { tasks } } }]);
    await f.update('g1', 'TASK_RUNNING');
    await f.update('g2', 'TASK_RUNNING');
    await f.client.shutdown('group-exec', o.agent_id.value);
    const failure = await f.next('FAILURE', (e) => e.failure.executor_id?.value === 'group-exec');
    expect(failure.failure.agent_id).toEqual(o.agent_id);
    const killed = await f.update('g1', 'TASK_KILLED');
    expect(killed).toMatchObject({ source: 'SOURCE_AGENT', reason: 'REASON_EXECUTOR_TERMINATED' });
  });

  it('"the next update of a task waits for the acknowledgement of the previous": unacknowledged updates are retried with the same uuid', async () => {
    const f = fw();
    f.autoAck = false;
    const o = await f.offer();
    await f.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('r1', o)] } }]);
    const first = await f.update('r1', 'TASK_RUNNING');
    const idx = f.events.length;
    await f.client.kill('r1', o.agent_id.value);
    const retried = await f.update('r1', 'TASK_RUNNING', idx);
    expect(Buffer.from(retried.uuid!).equals(Buffer.from(first.uuid!))).toBe(true);
    expect(f.events.slice(idx).some((e) => e.type === 'UPDATE' && e.update.status.state === 'TASK_KILLED')).toBe(false);
    await f.client.acknowledge(retried);
    const killed = await f.update('r1', 'TASK_KILLED', idx);
    expect(killed.uuid).toHaveLength(16);
  });

  it('DECLINE with refuse_seconds filters the agent; SUPPRESS stops offers; REVIVE brings them back at once', async () => {
    const f = fw();
    const o = await f.offer();
    await f.client.decline([o.id.value], { refuse_seconds: 1 });
    const from = f.events.length;
    const t0 = Date.now();
    await f.next('OFFERS', (e) => (e.offers.offers ?? []).some((x) => x.agent_id.value === o.agent_id.value), 4000, from);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(800);
    await f.client.suppress();
    const all = (await state(emu.url)).frameworks[0];
    expect(all.active).toBe(true);
    // Give back everything outstanding, then check nothing new is offered while suppressed.
    const outstanding = f.events.flatMap((e) => (e.type === 'OFFERS' ? (e.offers.offers ?? []).map((x) => x.id.value) : []));
    await f.client.decline(outstanding, { refuse_seconds: 0 });
    const quiet = f.events.length;
    const sent = emu.master.stats.offersSent;
    const cycles = emu.master.stats.allocationCycles;
    await eventually(() => emu.master.stats.allocationCycles >= cycles + 3); // three allocation cycles ran while suppressed…
    expect(emu.master.stats.offersSent).toBe(sent); // …and made no offer
    expect(f.events.slice(quiet).filter((e) => e.type === 'OFFERS')).toHaveLength(0);
    await f.client.revive();
    await f.next('OFFERS', () => true, 2000, quiet);
  });

  it('reconciliation: explicit for a known task gives its latest state, for an unknown one TASK_LOST; implicit lists all; REASON_RECONCILIATION, no uuid', async () => {
    const f = fw();
    const o = await f.offer();
    await f.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('k1', o)] } }]);
    await f.update('k1', 'TASK_RUNNING');
    const from = f.events.length;
    await f.client.reconcile([{ taskId: 'k1' }, { taskId: 'nope', agentId: o.agent_id.value }]);
    const known = await f.next('UPDATE', (e) => e.update.status.task_id.value === 'k1', 3000, from);
    const unknown = await f.next('UPDATE', (e) => e.update.status.task_id.value === 'nope', 3000, from);
    expect(known.update.status).toMatchObject({ state: 'TASK_RUNNING', reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER' });
    expect(unknown.update.status).toMatchObject({ state: 'TASK_LOST', reason: 'REASON_RECONCILIATION' });
    expect(known.update.status.uuid).toBeUndefined();
    const implicit = f.events.length;
    await f.client.reconcile([]);
    const all = await f.next('UPDATE', (e) => e.update.status.reason === 'REASON_RECONCILIATION', 3000, implicit);
    expect(all.update.status.task_id.value).toBe('k1');
  });

  it('failover: a broken stream deactivates the framework; re-SUBSCRIBE with its id within failover_timeout keeps its tasks; a second subscription gets ERROR "Framework failed over" on the first', async () => {
    const a = fw();
    const o = await a.offer();
    await a.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('f1', o)] } }]);
    await a.update('f1', 'TASK_RUNNING');
    const id = a.client.frameworkId!;
    await a.stop();
    await eventually(async () => (await state(emu.url)).frameworks.find((x) => x.id === id)?.active === false);
    const b = fw({ id: { value: id } });
    await b.next('SUBSCRIBED');
    expect(b.client.frameworkId).toBe(id);
    await b.client.reconcile([{ taskId: 'f1' }]);
    await b.next('UPDATE', (e) => e.update.status.task_id.value === 'f1' && e.update.status.state === 'TASK_RUNNING');
    const c = fw({ id: { value: id } });
    await c.next('SUBSCRIBED');
    const err = await b.next('ERROR');
    expect(err.error.message).toBe('Framework failed over');
  });

  it('after failover_timeout without a subscription the framework is removed and its tasks are killed', async () => {
    const a = fw({ failover_timeout: 0.2 });
    const o = await a.offer();
    await a.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('x1', o)] } }]);
    await a.update('x1', 'TASK_RUNNING');
    const id = a.client.frameworkId!;
    await a.stop();
    const s = await eventually(async () => {
      const st = await state(emu.url);
      return st.completed_frameworks.some((x) => x.id === id) ? st : undefined;
    });
    expect(s.slaves.every((x) => Object.keys(x.used_resources).length === 0)).toBe(true);
  });

  it.each([
    ['PARTITION_AWARE', 'TASK_UNREACHABLE', [{ type: 'PARTITION_AWARE' as const }]],
    ['non-partition-aware', 'TASK_LOST', []],
  ])('a partitioned agent is marked unreachable: a %s framework gets %s, and the task is RUNNING again when it recovers', async (_d, expected, capabilities) => {
    const f = fw({ capabilities });
    const o = await f.offer();
    await f.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('p1', o)] } }]);
    await f.update('p1', 'TASK_RUNNING');
    expect((await post(emu.url, `/emulator/agents/${o.agent_id.value}/partition`)).status).toBe(200);
    const lost = await f.update('p1', expected);
    expect(lost).toMatchObject({ source: 'SOURCE_MASTER', reason: 'REASON_AGENT_REMOVED' });
    await f.next('FAILURE', (e) => e.failure.agent_id?.value === o.agent_id.value && !e.failure.executor_id);
    expect((await post(emu.url, `/emulator/agents/${o.agent_id.value}/recover`)).status).toBe(200);
    const from = f.events.length;
    await f.client.reconcile([{ taskId: 'p1' }]);
    await f.update('p1', 'TASK_RUNNING', from);
  });

  it('zone failure: every agent of the zone fails; the tasks there are lost, offers come only from the other zone until it recovers', async () => {
    const f = fw({ capabilities: [{ type: 'PARTITION_AWARE' }] });
    const o = await f.offer((x) => x.domain?.fault_domain?.zone.name === 'a');
    await f.client.accept([o.id.value], [{ type: 'LAUNCH', launch: { task_infos: [task('z1', o)] } }]);
    await f.update('z1', 'TASK_RUNNING');
    const r = await post(emu.url, '/emulator/zones/a/fail');
    expect(JSON.parse(r.body)).toEqual({ zone: 'a', agents: [o.agent_id.value] });
    const failedAt = f.events.length;
    await f.update('z1', 'TASK_UNREACHABLE');
    const cycles = emu.master.stats.allocationCycles;
    await eventually(() => emu.master.stats.allocationCycles >= cycles + 3); // allocation ran with zone a down
    expect((await state(emu.url)).slaves.filter((a) => a.id === o.agent_id.value).map((a) => a.state)).toEqual(['unreachable']);
    const zoneOf = (e: SchedulerEvent) => (e.type === 'OFFERS' ? (e.offers.offers ?? []).map((x) => x.domain?.fault_domain?.zone.name) : []);
    expect(f.events.slice(failedAt).flatMap(zoneOf)).not.toContain('a');
    const recoveredAt = f.events.length;
    expect((await post(emu.url, '/emulator/zones/a/recover')).status).toBe(200);
    // The agent comes back from a reboot without the task: TASK_GONE (fault-domains / mesos.proto TaskState).
    await f.update('z1', 'TASK_GONE', recoveredAt);
    await f.next('OFFERS', (e) => zoneOf(e).includes('a'), 3000, recoveredAt);
  });

  it('POST /emulator/agents adds agents in the given zone with the given resources; they are offered', async () => {
    const f = fw();
    const r = await post(emu.url, '/emulator/agents', { count: 2, zone: 'c', resources: 'cpus:32;mem:65536' });
    expect(r.status).toBe(200);
    const added = JSON.parse(r.body) as { agents: { id: string; zone: string }[] };
    expect(added.agents.map((a) => a.zone)).toEqual(['c', 'c']);
    const o = await f.offer((x) => x.agent_id.value === added.agents[0].id);
    expect(o.resources?.find((x) => x.name === 'cpus')?.scalar?.value).toBe(32);
    expect((await post(emu.url, '/emulator/agents', { count: 'many' })).status).toBe(400);
  });

  it('leader failover: every stream drops, the old address answers 307 to the new leader, and the framework re-subscribes there with its id', async () => {
    const f = fw();
    await f.next('SUBSCRIBED');
    const id = f.client.frameworkId;
    const r = await post(emu.url, '/emulator/leader/failover');
    const { leader, previous } = JSON.parse(r.body) as { leader: string; previous: string };
    expect(previous).toBe(emu.url);
    expect(leader).not.toBe(previous);
    const redirect = await rawRequest(emu.url, { path: '/api/v1/scheduler', headers: { 'Content-Type': PROTOBUF }, body: new Uint8Array() });
    expect(redirect.status).toBe(307);
    expect(redirect.headers.location).toBe(`//${new URL(leader).host}/api/v1/scheduler`);
    const from = f.events.length;
    await f.next('SUBSCRIBED', () => true, 8000, from);
    expect(f.client.frameworkId).toBe(id);
    expect(f.client.master).toContain(new URL(leader).host);
  });
});

describe('offer timeout', () => {
  it('"--offer_timeout": offers not used in time are rescinded with RESCIND', async () => {
    const emu = await startEmulator({ listen: '127.0.0.1:0', agents: 1, allocationIntervalMs: 50, offerTimeoutMs: 200 });
    const f = new Framework(emu.url).start();
    try {
      const o = await f.offer();
      const rescind = await f.next('RESCIND', (e) => e.rescind.offer_id.value === o.id.value, 3000);
      expect(rescind.rescind.offer_id).toEqual(o.id);
    } finally {
      await f.stop();
      await emu.stop();
    }
  });
});
