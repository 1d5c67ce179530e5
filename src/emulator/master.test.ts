import { ManualClock } from './clock.js';
import { InProcessLauncher, type ExecutorFactory } from './executors.js';
import { Master, type SchedulerSink } from './master.js';
import type { FrameworkInfo, Offer, SchedulerCall, SchedulerEvent, TaskInfo, TaskStatus } from './proto-types.js';
import { parseResourceSpec } from './resources.js';
import { renderAttributes } from './agent.js';
import { ExecutorClient, executorOptionsFromEnv } from '../mesos/executor.js';
import { until } from '../../test/support/until.js';

class Sink implements SchedulerSink {
  readonly events: SchedulerEvent[] = [];
  closed = false;
  constructor(readonly streamId = `s-${Math.random()}`) {}
  send(ev: SchedulerEvent): void {
    if (!this.closed) this.events.push(ev);
  }
  close(): void {
    this.closed = true;
  }
  of<T extends SchedulerEvent['type']>(type: T): Extract<SchedulerEvent, { type: T }>[] {
    return this.events.filter((e) => e.type === type) as Extract<SchedulerEvent, { type: T }>[];
  }
  offers(): Offer[] {
    return this.of('OFFERS').flatMap((e) => e.offers.offers ?? []);
  }
  updates(): TaskStatus[] {
    return this.of('UPDATE').map((e) => e.update.status);
  }
  clear(): void {
    this.events.length = 0;
  }
}

const RES = parseResourceSpec('cpus:4;mem:8192;disk:1000;ports:[31000-31009]');
if (!RES.ok) throw new Error(RES.error);

function setup(opts: { agents?: number; zones?: string[]; factory?: ExecutorFactory; partitionAware?: boolean } = {}) {
  const clock = new ManualClock();
  const launcher = opts.factory ? new InProcessLauncher(opts.factory, () => master) : undefined;
  const master: Master = new Master({ clock, clusterId: 'c1', allocationIntervalMs: 1000, heartbeatIntervalMs: 15_000, agentUnreachableTimeoutMs: 30_000, launcher, random: () => 0 });
  const zones = opts.zones ?? ['a', 'b'];
  for (let i = 0; i < (opts.agents ?? 2); i++) {
    const attrs = renderAttributes('rack:r{i%4}', { i });
    if (!attrs.ok) throw new Error(attrs.error);
    master.addAgent({ hostname: `agent-${i}`, zone: zones[i % zones.length], region: 'r1', resources: RES.ok ? RES.value : [], attributes: attrs.value });
  }
  master.start();
  return { clock, master };
}

function fwInfo(extra: Partial<FrameworkInfo> = {}): FrameworkInfo {
  return { user: 'root', name: 'test', failover_timeout: 60, ...extra };
}

function subscribe(master: Master, info: FrameworkInfo, sink = new Sink()): { sink: Sink; fid: string; call: (c: Omit<SchedulerCall, 'framework_id'>) => ReturnType<Master['call']> } {
  master.subscribe(sink, { type: 'SUBSCRIBE', subscribe: { framework_info: info }, ...(info.id ? { framework_id: info.id } : {}) });
  const sub = sink.of('SUBSCRIBED')[0];
  const fid = sub?.subscribed.framework_id.value ?? '';
  return { sink, fid, call: (c) => master.call({ ...c, framework_id: { value: fid } } as SchedulerCall, sink.streamId) };
}

const task = (id: string, offer: Offer, resources = 'cpus:1;mem:128', extra: Partial<TaskInfo> = {}): TaskInfo => {
  const r = parseResourceSpec(resources);
  if (!r.ok) throw new Error(r.error);
  return { name: id, task_id: { value: id }, agent_id: offer.agent_id, resources: r.value, command: { value: 'sleep 1000' }, ...extra };
};

describe('Master core (injected clock)', () => {
  it('SUBSCRIBE answers SUBSCRIBED with master_info and heartbeat interval, then HEARTBEAT at once and every interval (scheduler-http-api.md)', () => {
    const { clock, master } = setup();
    const { sink, fid } = subscribe(master, fwInfo());
    expect(fid).toBe('c1-0000');
    expect(sink.events.slice(0, 2).map((e) => e.type)).toEqual(['SUBSCRIBED', 'HEARTBEAT']);
    expect(sink.of('SUBSCRIBED')[0].subscribed).toMatchObject({ heartbeat_interval_seconds: 15, master_info: { id: master.masterId, port: 5050 } });
    clock.advance(15_000);
    expect(sink.of('HEARTBEAT')).toHaveLength(2);
    clock.advance(15_000);
    expect(sink.of('HEARTBEAT')).toHaveLength(3);
  });

  it('offers a GPU agent (with its gpus) only to frameworks with GPU_RESOURCES, as Mesos does', () => {
    const { clock, master } = setup({ agents: 1 });
    master.addAgent({ hostname: 'gpu-0', zone: 'a', region: 'r1', resources: parseOk('cpus:4;mem:8192;gpus:2'), attributes: [] });
    const plain = subscribe(master, fwInfo({ name: 'plain' }));
    clock.advance(0);
    expect(plain.sink.offers().map((o) => o.hostname)).toEqual(['agent-0']);
    const gpu = subscribe(master, fwInfo({ name: 'gpu', capabilities: [{ type: 'GPU_RESOURCES' }] }));
    clock.advance(1000);
    const offers = gpu.sink.offers();
    expect(offers.map((o) => o.hostname)).toEqual(['gpu-0']);
    expect(offers[0].resources?.find((r) => r.name === 'gpus')).toMatchObject({ scalar: { value: 2 } });
    expect(plain.sink.offers().map((o) => o.hostname)).toEqual(['agent-0']);
  });

  it('offers every agent with resources, attributes, hostname and fault domain; allocation_info only for MULTI_ROLE', () => {
    const { clock, master } = setup({ agents: 3 });
    const f = subscribe(master, fwInfo());
    const sink = f.sink;
    clock.advance(0);
    const offers = sink.offers();
    expect(offers).toHaveLength(3);
    const o = offers.find((x) => x.hostname === 'agent-1')!;
    expect(o.domain).toEqual({ fault_domain: { region: { name: 'r1' }, zone: { name: 'b' } } });
    expect(o.attributes).toEqual([{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }]);
    expect(o.resources?.find((r) => r.name === 'cpus')).toMatchObject({ scalar: { value: 4 }, role: '*' });
    expect(o.allocation_info).toBeUndefined();

    const multi = subscribe(master, fwInfo({ name: 'multi', roles: ['prod'], capabilities: [{ type: 'MULTI_ROLE' }] }));
    // Everything is offered already; declining frees one agent for the next cycle (DRF: multi has the lower share).
    const first = f.call({ type: 'DECLINE', decline: { offer_ids: [offers[0].id], filters: { refuse_seconds: 60 } } } as never);
    expect(first).toEqual({ status: 202 });
    clock.advance(0);
    const mo = multi.sink.offers();
    expect(mo).toHaveLength(1);
    expect(mo[0].allocation_info).toEqual({ role: 'prod' });
    expect(mo[0].resources?.every((r) => r.allocation_info?.role === 'prod')).toBe(true);
  });

  it('DECLINE filters the agent for refuse_seconds (default 5 s), REVIVE clears filters, SUPPRESS stops offers', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o1] = f.sink.offers();
    f.call({ type: 'DECLINE', decline: { offer_ids: [o1.id] } } as never);
    f.sink.clear();
    clock.advance(4_000);
    expect(f.sink.offers()).toHaveLength(0);
    clock.advance(2_000);
    const [o2] = f.sink.offers();
    expect(o2).toBeDefined();
    f.call({ type: 'DECLINE', decline: { offer_ids: [o2.id], filters: { refuse_seconds: 3600 } } } as never);
    f.sink.clear();
    clock.advance(10_000);
    expect(f.sink.offers()).toHaveLength(0);
    f.call({ type: 'REVIVE' } as never);
    clock.advance(0);
    const [o3] = f.sink.offers();
    expect(o3).toBeDefined();
    f.call({ type: 'SUPPRESS' } as never);
    f.call({ type: 'DECLINE', decline: { offer_ids: [o3.id], filters: { refuse_seconds: 0 } } } as never);
    f.sink.clear();
    clock.advance(5_000);
    expect(f.sink.offers()).toHaveLength(0);
    f.call({ type: 'REVIVE', revive: { roles: ['*'] } } as never);
    clock.advance(0);
    expect(f.sink.offers()).toHaveLength(1);
  });

  it.each([
    ['non-partition-aware', 'TASK_LOST', false],
    ['PARTITION_AWARE', 'TASK_DROPPED', true],
  ])('ACCEPT with an unknown offer: a %s framework gets %s with REASON_INVALID_OFFERS (master.cpp accept)', (_n, state, pa) => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo(pa ? { capabilities: [{ type: 'PARTITION_AWARE' }] } : {}));
    clock.advance(0);
    const [o] = f.sink.offers();
    const bogus = { ...o, id: { value: 'nope' } };
    f.call({ type: 'ACCEPT', accept: { offer_ids: [bogus.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o)] } }] } } as never);
    const [u] = f.sink.updates();
    expect(u).toMatchObject({ task_id: { value: 't1' }, state, source: 'SOURCE_MASTER', reason: 'REASON_INVALID_OFFERS' });
    expect(u.uuid).toBeUndefined();
  });

  it('ACCEPT uses an offer once: the second use of the same offer is invalid', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o)] } }] } } as never);
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t2', o)] } }] } } as never);
    expect(f.sink.updates().find((u) => u.task_id.value === 't2')).toMatchObject({ state: 'TASK_LOST', reason: 'REASON_INVALID_OFFERS' });
  });

  it('a task asking more than the offer holds gets TASK_ERROR / REASON_TASK_INVALID; resources are accounted on the agent', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    f.call({
      type: 'ACCEPT',
      accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('big', o, 'cpus:5;mem:1'), task('ok', o, 'cpus:3;mem:1024;ports:[31000-31000]')] } }] },
    } as never);
    expect(f.sink.updates().find((u) => u.task_id.value === 'big')).toMatchObject({ state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID' });
    const agent = [...master.agents.values()][0];
    expect(agent.usedBag().toJSON()).toEqual({ cpus: 3, mem: 1024, ports: '[31000-31000]' });
    // The unused part comes back after the default 5 s filter, without the used cpus or port.
    f.sink.clear();
    clock.advance(6_000);
    const [again] = f.sink.offers();
    expect(again.resources?.find((r) => r.name === 'cpus')?.scalar?.value).toBe(1);
    expect(again.resources?.find((r) => r.name === 'ports')?.ranges?.range).toEqual([{ begin: 31001, end: 31009 }]);
  });

  it('status updates carry a uuid, are retried until acknowledged, and the next one waits for the acknowledgement (status update manager)', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o)] } }] } } as never);
    clock.advance(0);
    let ups = f.sink.updates();
    expect(ups.map((u) => u.state)).toEqual(['TASK_STARTING']);
    expect(ups[0].uuid).toHaveLength(16);
    expect(ups[0].source).toBe('SOURCE_EXECUTOR');
    clock.advance(10_000);
    ups = f.sink.updates();
    expect(ups.map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_STARTING']);
    expect(Buffer.from(ups[1].uuid!).equals(Buffer.from(ups[0].uuid!))).toBe(true);
    f.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: o.agent_id, task_id: { value: 't1' }, uuid: ups[0].uuid! } } as never);
    ups = f.sink.updates();
    expect(ups.map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_STARTING', 'TASK_RUNNING']);
  });

  it('KILL of a running command task yields TASK_KILLED; KILL of an unknown task answers by reconciliation', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo({ capabilities: [{ type: 'PARTITION_AWARE' }] }));
    clock.advance(0);
    const [o] = f.sink.offers();
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o)] } }] } } as never);
    clock.advance(0);
    const ack = () => {
      for (const u of f.sink.updates()) if (u.uuid) f.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: o.agent_id, task_id: u.task_id, uuid: u.uuid } } as never);
    };
    ack();
    ack();
    f.call({ type: 'KILL', kill: { task_id: { value: 't1' } } } as never);
    ack();
    expect(f.sink.updates().map((u) => u.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLED']);
    f.call({ type: 'KILL', kill: { task_id: { value: 'ghost' }, agent_id: o.agent_id } } as never);
    expect(f.sink.updates().at(-1)).toMatchObject({ task_id: { value: 'ghost' }, state: 'TASK_GONE', reason: 'REASON_RECONCILIATION' });
  });

  it.each([
    // [description, partition aware, expected, query agent, what happened to the agent]
    ['task unknown, agent registered', true, 'TASK_GONE', 'agent', 'nothing'],
    ['task unknown, agent registered', false, 'TASK_LOST', 'agent', 'nothing'],
    ['task unknown, agent unreachable', true, 'TASK_UNREACHABLE', 'agent', 'partition'],
    ['task unknown, agent unreachable', false, 'TASK_LOST', 'agent', 'partition'],
    ['task unknown, agent marked gone', true, 'TASK_GONE_BY_OPERATOR', 'agent', 'gone'],
    ['task unknown, agent unknown', true, 'TASK_UNKNOWN', 'S999', 'nothing'],
    ['task unknown, agent unknown', false, 'TASK_LOST', 'S999', 'nothing'],
    ['task unknown, no agent given', true, 'TASK_UNKNOWN', undefined, 'nothing'],
    ['task unknown, no agent given', false, 'TASK_LOST', undefined, 'nothing'],
  ])('explicit reconciliation (reconciliation.md): %s, PARTITION_AWARE=%s → %s', (_d, pa, expected, agent, fault) => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo(pa ? { capabilities: [{ type: 'PARTITION_AWARE' }] } : {}));
    clock.advance(0);
    const agentId = agent === 'agent' ? [...master.agents.keys()][0] : agent;
    if (fault === 'partition') {
      master.partitionAgent(agentId!);
      clock.advance(30_000);
    }
    if (fault === 'gone') master.markAgentGone(agentId!);
    f.sink.clear();
    f.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 'x' }, ...(agentId ? { agent_id: { value: agentId } } : {}) }] } } as never);
    const [u] = f.sink.updates();
    expect(u).toMatchObject({ state: expected, reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER' });
    expect(u.uuid).toBeUndefined();
  });

  it('DRF: with two frameworks, each agent goes to the one with the lower dominant share', () => {
    const { clock, master } = setup({ agents: 4 });
    const a = subscribe(master, fwInfo({ name: 'a' }));
    const b = subscribe(master, fwInfo({ name: 'b' }));
    clock.advance(0);
    // Both start at share 0; each offer raises the receiver's share, so the four agents alternate.
    expect(a.sink.offers()).toHaveLength(2);
    expect(b.sink.offers()).toHaveLength(2);
    // a runs a big task on one agent and declines the rest; b declines everything: a's share stays higher,
    // so b is offered the freed agents first.
    const [a1, a2] = a.sink.offers();
    a.call({ type: 'ACCEPT', accept: { offer_ids: [a1.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('big', a1, 'cpus:4;mem:8192')] } }], filters: { refuse_seconds: 0 } } } as never);
    a.call({ type: 'DECLINE', decline: { offer_ids: [a2.id], filters: { refuse_seconds: 0 } } } as never);
    b.call({ type: 'DECLINE', decline: { offer_ids: b.sink.offers().map((o) => o.id), filters: { refuse_seconds: 0 } } } as never);
    a.sink.clear();
    b.sink.clear();
    clock.advance(1000);
    expect(b.sink.offers().length).toBeGreaterThan(a.sink.offers().length);
  });

  it('ACCEPT validates tasks: an ExecutorInfo that differs from the running one with the same id gets TASK_ERROR (validation.cpp)', () => {
    const { clock, master } = setup({ agents: 1, factory: async ({ signal }) => new Promise<void>((r) => signal.addEventListener('abort', () => r())) });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    const e1 = { executor_id: { value: 'e' }, command: { value: 'one' } };
    const e2 = { executor_id: { value: 'e' }, command: { value: 'two' } };
    f.call({
      type: 'ACCEPT',
      accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o, 'cpus:1', { command: undefined, executor: e1 }), task('t2', o, 'cpus:1', { command: undefined, executor: e2 })] } }] },
    } as never);
    expect(f.sink.updates()).toEqual([expect.objectContaining({ task_id: { value: 't2' }, state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID' })]);
    expect(f.sink.updates()[0].message).toContain('ExecutorInfo is not compatible');
    master.stop();
  });

  it.each([
    { name: 'PARTITION_AWARE', capabilities: [{ type: 'PARTITION_AWARE' }], dropped: 'TASK_DROPPED' },
    { name: 'not partition-aware', capabilities: [], dropped: 'TASK_LOST' },
  ])('a re-SUBSCRIBE that does not know a task sent on the old connection: $name → $dropped, REASON_AGENT_RESTARTED (slave.cpp subscribe; v1 name of REASON_SLAVE_RESTARTED)', ({ capabilities, dropped }) => {
    const envs: Record<string, string>[] = [];
    const { clock, master } = setup({ agents: 1, factory: async ({ env, signal }) => { envs.push(env); return new Promise<void>((r) => signal.addEventListener('abort', () => r())); } });
    const f = subscribe(master, fwInfo({ capabilities: capabilities as FrameworkInfo['capabilities'] }));
    clock.advance(0);
    const [o] = f.sink.offers();
    const executor = { executor_id: { value: 'e' }, command: { value: 'x' } };
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o, 'cpus:1', { command: undefined, executor })] } }] } } as never);
    clock.advance(0);
    expect(envs).toHaveLength(1);
    const token = envs[0].MESOS_EXECUTOR_AUTHENTICATION_TOKEN;
    const ids = { framework_id: { value: f.fid }, executor_id: { value: 'e' } };
    const events: string[][] = [[], []];
    const sinkOf = (i: number) => ({ send: (ev: { type: string; launch?: { task: TaskInfo } }) => events[i].push(ev.type === 'LAUNCH' ? `LAUNCH ${ev.launch!.task.task_id.value}` : ev.type), close: () => undefined });
    // The first connection takes SUBSCRIBED and the queued LAUNCH of t1; a second task goes out on it too.
    expect(master.executorSubscribe(token, { type: 'SUBSCRIBE', ...ids, subscribe: {} } as never, sinkOf(0) as never)).toEqual({ status: 200 });
    clock.advance(6000); // past the default 5 s filter on the accepted offer's remainder
    const [o2] = f.sink.offers().slice(-1);
    expect(o2.id).not.toEqual(o.id);
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o2.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t2', o2, 'cpus:1', { command: undefined, executor })] } }] } } as never);
    expect(events[0]).toEqual(['SUBSCRIBED', 'LAUNCH t1', 'LAUNCH t2']);
    f.sink.clear();
    // The executor never saw t1 (the connection broke); it re-subscribes knowing only t2.
    const t2 = task('t2', o2, 'cpus:1', { command: undefined, executor });
    expect(master.executorSubscribe(token, { type: 'SUBSCRIBE', ...ids, subscribe: { unacknowledged_tasks: [t2] } } as never, sinkOf(1) as never)).toEqual({ status: 200 });
    expect(events[1]).toEqual(['SUBSCRIBED']);
    expect(f.sink.updates().map((u) => [u.task_id.value, u.state, u.source, u.reason, u.message])).toEqual([['t1', dropped, 'SOURCE_AGENT', 'REASON_AGENT_RESTARTED', 'Task launched during agent restart']]);
    master.stop();
  });

  it('UPDATE_FRAMEWORK changes roles and suppression (answers 200); offers of a dropped role are rescinded', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo({ roles: ['r1'], capabilities: [{ type: 'MULTI_ROLE' }] }));
    clock.advance(0);
    const [o] = f.sink.offers();
    expect(o.allocation_info).toEqual({ role: 'r1' });
    const r = f.call({ type: 'UPDATE_FRAMEWORK', update_framework: { framework_info: fwInfo({ id: { value: f.fid }, roles: ['r2'], capabilities: [{ type: 'MULTI_ROLE' }] }) } } as never);
    expect(r).toEqual({ status: 200 });
    expect(f.sink.of('RESCIND')).toEqual([{ type: 'RESCIND', rescind: { offer_id: o.id } }]);
    clock.advance(0);
    expect(f.sink.offers().at(-1)?.allocation_info).toEqual({ role: 'r2' });
  });

  it.each([
    ['pre-refinement format (role on every resource)', [], { role: 'prod', reservations: [{ type: 'STATIC', role: 'prod' }] }, { role: '*' }],
    ['RESERVATION_REFINEMENT format (reservations stack only)', [{ type: 'RESERVATION_REFINEMENT' as const }], { reservations: [{ type: 'STATIC', role: 'prod' }] }, {}],
  ])('statically reserved resources go only to their role, with unreserved ones, in the %s', (_d, caps, reserved, unreserved) => {
    const { clock, master } = setup({ agents: 0 });
    const spec = parseOk('cpus(prod):2;cpus:4;mem:1024');
    master.addAgent({ hostname: 'r', resources: spec, attributes: [] });
    const other = subscribe(master, fwInfo({ name: 'star' }));
    clock.advance(0);
    // The '*' framework gets only the unreserved part.
    const [o1] = other.sink.offers();
    expect(o1.resources?.filter((r) => r.name === 'cpus').map((r) => r.scalar?.value)).toEqual([4]);
    other.call({ type: 'DECLINE', decline: { offer_ids: [o1.id], filters: { refuse_seconds: 3600 } } } as never);
    const prod = subscribe(master, fwInfo({ name: 'prod', roles: ['prod'], capabilities: [{ type: 'MULTI_ROLE' }, ...caps] }));
    clock.advance(1000);
    const [o2] = prod.sink.offers();
    const cpus = o2.resources!.filter((r) => r.name === 'cpus');
    expect(cpus).toEqual([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 4 }, allocation_info: { role: 'prod' }, ...unreserved },
      { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, allocation_info: { role: 'prod' }, ...reserved },
    ]);
  });

  it('an executor that does not subscribe within the registration timeout is killed: TASK_FAILED, REASON_EXECUTOR_REGISTRATION_TIMEOUT', () => {
    const { clock, master } = setup({ agents: 1, factory: async ({ signal }) => new Promise<void>((r) => signal.addEventListener('abort', () => r())) });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    const executor = { executor_id: { value: 'silent' }, command: { value: 'x' } };
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o, 'cpus:1', { command: undefined, executor })] } }] } } as never);
    clock.advance(59_000);
    expect(f.sink.updates()).toHaveLength(0);
    clock.advance(1_000);
    expect(f.sink.updates()).toEqual([expect.objectContaining({ state: 'TASK_FAILED', source: 'SOURCE_AGENT', reason: 'REASON_EXECUTOR_REGISTRATION_TIMEOUT' })]);
    expect(f.sink.of('FAILURE')[0].failure).toMatchObject({ executor_id: { value: 'silent' }, status: 9 });
  });

  it('with an offer timeout, unused offers are rescinded (RESCIND) and offered again', () => {
    const clock = new ManualClock();
    const master = new Master({ clock, offerTimeoutMs: 2_000, random: () => 0 });
    master.addAgent({ hostname: 'h', resources: parseOk('cpus:1;mem:1'), attributes: [] });
    master.start();
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    clock.advance(1_999);
    expect(f.sink.of('RESCIND')).toHaveLength(0);
    clock.advance(1);
    expect(f.sink.of('RESCIND')).toEqual([{ type: 'RESCIND', rescind: { offer_id: o.id } }]);
    clock.advance(1_000);
    expect(f.sink.offers()).toHaveLength(2);
  });

  it('implicit reconciliation answers the latest state of every known task, without uuid', () => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('a', o), task('b', o)] } }] } } as never);
    clock.advance(0);
    f.sink.clear();
    f.call({ type: 'RECONCILE', reconcile: {} } as never);
    const ups = f.sink.updates();
    // The agent already reported TASK_RUNNING (the latest state) though the framework has acknowledged nothing yet.
    expect(ups.map((u) => [u.task_id.value, u.state, u.reason, u.uuid])).toEqual([
      ['a', 'TASK_RUNNING', 'REASON_RECONCILIATION', undefined],
      ['b', 'TASK_RUNNING', 'REASON_RECONCILIATION', undefined],
    ]);
  });

  it('failover: a broken stream deactivates the framework and rescinds its offers; re-SUBSCRIBE within failover_timeout keeps tasks; a second subscription replaces the first with "Framework failed over"', () => {
    const { clock, master } = setup({ agents: 2 });
    const f = subscribe(master, fwInfo({ failover_timeout: 10 }));
    clock.advance(0);
    const [o] = f.sink.offers();
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o)] } }] } } as never);
    master.disconnected(f.sink);
    expect(master.state().frameworks).toMatchObject([{ id: f.fid, active: false, offers: [] }]);
    clock.advance(9_000);
    const again = subscribe(master, fwInfo({ failover_timeout: 10, id: { value: f.fid } }));
    expect(again.fid).toBe(f.fid);
    expect(master.frameworks.get(f.fid)?.tasks.has('t1')).toBe(true);
    const third = subscribe(master, fwInfo({ failover_timeout: 10, id: { value: f.fid } }));
    expect(again.sink.events.at(-1)).toEqual({ type: 'ERROR', error: { message: 'Framework failed over' } });
    expect(again.sink.closed).toBe(true);
    expect(third.fid).toBe(f.fid);
    // After the timeout without a subscription the framework is removed and its tasks killed.
    master.disconnected(third.sink);
    clock.advance(10_001);
    expect(master.frameworks.has(f.fid)).toBe(false);
    expect([...master.agents.values()].every((a) => a.tasks.size === 0 && a.usedBag().isEmpty())).toBe(true);
    const late = subscribe(master, fwInfo({ id: { value: f.fid } }));
    expect(late.sink.events).toEqual([{ type: 'ERROR', error: { message: 'Framework has been removed' } }]);
    expect(late.sink.closed).toBe(true);
  });

  it('calls: 400 unknown framework, 403 not subscribed, 400 missing or wrong stream id (master/http.cpp)', () => {
    const { master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo());
    expect(master.call({ type: 'REVIVE', framework_id: { value: 'nope' } }, f.sink.streamId)).toMatchObject({ status: 400, message: 'Framework cannot be found' });
    expect(master.call({ type: 'REVIVE', framework_id: { value: f.fid } }, undefined)).toMatchObject({ status: 400 });
    expect(master.call({ type: 'REVIVE', framework_id: { value: f.fid } }, 'other')).toMatchObject({ status: 400 });
    master.disconnected(f.sink);
    expect(master.call({ type: 'REVIVE', framework_id: { value: f.fid } }, f.sink.streamId)).toMatchObject({ status: 403, message: 'Framework is not subscribed' });
  });

  it.each([
    ['non-partition-aware', 'TASK_LOST', 'TASK_LOST', false],
    ['PARTITION_AWARE', 'TASK_UNREACHABLE', 'TASK_UNREACHABLE', true],
  ])('partitioned agent: a %s framework sees %s after the ping timeout, reconciliation says %s, and the task returns to RUNNING on re-registration', (_n, sent, reconciled, pa) => {
    const { clock, master } = setup({ agents: 1 });
    const f = subscribe(master, fwInfo(pa ? { capabilities: [{ type: 'PARTITION_AWARE' }] } : {}));
    clock.advance(0);
    const [o] = f.sink.offers();
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o)] } }] } } as never);
    clock.advance(0);
    master.partitionAgent(o.agent_id.value);
    f.sink.clear();
    clock.advance(29_000);
    expect(f.sink.updates().filter((u) => u.source === 'SOURCE_MASTER')).toHaveLength(0);
    clock.advance(1_000);
    expect(f.sink.updates().find((u) => u.source === 'SOURCE_MASTER')).toMatchObject({ state: sent, reason: 'REASON_AGENT_REMOVED' });
    expect(f.sink.of('FAILURE')).toEqual([{ type: 'FAILURE', failure: { agent_id: o.agent_id } }]);
    f.sink.clear();
    f.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' } }] } } as never);
    expect(f.sink.updates()[0]).toMatchObject({ state: reconciled, reason: 'REASON_RECONCILIATION' });
    expect(f.sink.updates()[0].unreachable_time).toBeDefined();
    master.recoverAgent(o.agent_id.value);
    f.sink.clear();
    f.call({ type: 'RECONCILE', reconcile: { tasks: [{ task_id: { value: 't1' } }] } } as never);
    expect(f.sink.updates()[0]).toMatchObject({ state: 'TASK_RUNNING' });
  });

  it('a failed agent that comes back rebooted reports its tasks TASK_GONE to PARTITION_AWARE frameworks; gone-by-operator gives TASK_GONE_BY_OPERATOR', () => {
    const { clock, master } = setup({ agents: 2, zones: ['a'] });
    const f = subscribe(master, fwInfo({ capabilities: [{ type: 'PARTITION_AWARE' }] }));
    clock.advance(0);
    const [o1, o2] = f.sink.offers();
    for (const [o, t] of [
      [o1, 't1'],
      [o2, 't2'],
    ] as const)
      f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task(t, o)] } }] } } as never);
    clock.advance(0);
    master.failAgent(o1.agent_id.value);
    clock.advance(30_000);
    master.recoverAgent(o1.agent_id.value);
    expect(f.sink.updates().find((u) => u.task_id.value === 't1' && u.state === 'TASK_GONE')).toMatchObject({ reason: 'REASON_AGENT_RESTARTED' });
    master.markAgentGone(o2.agent_id.value);
    expect(f.sink.updates().find((u) => u.task_id.value === 't2' && u.source === 'SOURCE_MASTER')).toMatchObject({ state: 'TASK_GONE_BY_OPERATOR' });
  });

  it('runs an in-process executor through the project ExecutorClient: SUBSCRIBED, LAUNCH, updates acknowledged, exit → TASK_FAILED + FAILURE', async () => {
    const envs: Record<string, string>[] = [];
    const factory: ExecutorFactory = async ({ env, transport, signal }) => {
      envs.push(env);
      const client = new ExecutorClient({ ...executorOptionsFromEnv(env), transport });
      await new Promise<void>((resolve) => {
        client.on('event', (ev) => {
          if (ev.type === 'LAUNCH') void client.update({ task_id: ev.launch.task.task_id, state: 'TASK_RUNNING' });
          if (ev.type === 'MESSAGE') resolve(); // told to exit
        });
        client.on('exit', () => resolve());
        signal.addEventListener('abort', () => resolve());
        client.start();
      });
      await client.stop();
    };
    const { clock, master } = setup({ agents: 1, factory });
    const f = subscribe(master, fwInfo());
    clock.advance(0);
    const [o] = f.sink.offers();
    const executor = { executor_id: { value: 'exec-1' }, command: { value: 'unused', environment: { variables: [{ name: 'FOO', value: 'bar' }] } }, resources: parseOk('cpus:0.5;mem:64') };
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o, 'cpus:1;mem:128', { command: undefined, executor })] } }] } } as never);
    await until(() => f.sink.updates().some((u) => u.state === 'TASK_RUNNING'), 'TASK_RUNNING');
    expect(envs[0]).toMatchObject({ MESOS_FRAMEWORK_ID: f.fid, MESOS_EXECUTOR_ID: 'exec-1', MESOS_SLAVE_ID: o.agent_id.value, MESOS_CHECKPOINT: '0', MESOS_HTTP_COMMAND_EXECUTOR: '0', FOO: 'bar' });
    expect(master.state().slaves).toMatchObject([{ used_resources: { cpus: 1.5, mem: 192 } }]);
    // Tell the executor to exit without finishing its task: the agent fails the task and the scheduler gets FAILURE.
    f.call({ type: 'MESSAGE', message: { agent_id: o.agent_id, executor_id: { value: 'exec-1' }, data: new Uint8Array([1]) } } as never);
    await until(() => f.sink.of('FAILURE').length > 0, 'FAILURE');
    expect(f.sink.of('FAILURE')[0].failure).toEqual({ agent_id: o.agent_id, executor_id: { value: 'exec-1' }, status: 0 });
    const running = f.sink.updates().find((u) => u.state === 'TASK_RUNNING')!;
    f.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: o.agent_id, task_id: { value: 't1' }, uuid: running.uuid! } } as never);
    expect(f.sink.updates().at(-1)).toMatchObject({ state: 'TASK_FAILED', source: 'SOURCE_AGENT', reason: 'REASON_EXECUTOR_TERMINATED' });
    master.stop();
  });

  it.each([
    [true, 'the executor re-subscribes and its task keeps running; no FAILURE'],
    [false, 'without checkpointing the executor is shut down: TASK_FAILED (REASON_EXECUTOR_TERMINATED) and FAILURE'],
  ])('agent restart (checkpoint %s): %s', async (checkpoint) => {
    let subscribes = 0;
    const factory: ExecutorFactory = async ({ env, transport, signal }) => {
      const client = new ExecutorClient({ ...executorOptionsFromEnv(env), transport, subscriptionBackoffMaxMs: 50 });
      await new Promise<void>((resolve) => {
        client.on('subscribed', () => subscribes++);
        client.on('event', (ev) => {
          if (ev.type === 'LAUNCH') void client.update({ task_id: ev.launch.task.task_id, state: 'TASK_RUNNING' });
        });
        client.on('exit', () => resolve());
        signal.addEventListener('abort', () => resolve());
        client.start();
      });
      await client.stop();
    };
    const { clock, master } = setup({ agents: 1, factory });
    const f = subscribe(master, fwInfo({ checkpoint }));
    clock.advance(0);
    const [o] = f.sink.offers();
    const executor = { executor_id: { value: 'exec-r' }, command: { value: 'unused' }, resources: parseOk('cpus:0.5;mem:64') };
    f.call({ type: 'ACCEPT', accept: { offer_ids: [o.id], operations: [{ type: 'LAUNCH', launch: { task_infos: [task('t1', o, 'cpus:1;mem:128', { command: undefined, executor })] } }] } } as never);
    await until(() => f.sink.updates().some((u) => u.state === 'TASK_RUNNING'), 'TASK_RUNNING');
    expect(subscribes).toBe(1);
    expect(master.restartAgent(o.agent_id.value)).toBe(true);
    if (checkpoint) {
      await until(() => subscribes === 2, 'the executor re-subscribed');
      // the agent took it back: a call on the new stream is accepted, and the task is still RUNNING, nothing failed
      expect((master.state() as { slaves: { executors: unknown[] }[] }).slaves[0].executors).toMatchObject([{ id: 'exec-r', state: 'subscribed' }]);
      expect(f.sink.of('FAILURE')).toEqual([]);
      expect(f.sink.updates().filter((u) => u.task_id.value === 't1').map((u) => u.state)).toEqual(['TASK_RUNNING']);
    } else {
      await until(() => f.sink.of('FAILURE').length > 0, 'FAILURE');
      const running = f.sink.updates().find((u) => u.state === 'TASK_RUNNING')!;
      f.call({ type: 'ACKNOWLEDGE', acknowledge: { agent_id: o.agent_id, task_id: { value: 't1' }, uuid: running.uuid! } } as never);
      expect(f.sink.updates().at(-1)).toMatchObject({ task_id: { value: 't1' }, state: 'TASK_FAILED', source: 'SOURCE_AGENT', reason: 'REASON_EXECUTOR_TERMINATED' });
    }
    master.stop();
  });
});

function parseOk(spec: string) {
  const r = parseResourceSpec(spec);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}
